// src/modules/kv: the key-value API, on both stores, its caps and TTL (507), and key encoding.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { silentLogger } from "../../src/logger";
import { RedisStore } from "../../src/store/redis";
import { startRedis, stopRedis, type RedisProcess } from "../../scripts/lib/redis";
import { call, describeEachStore, testApp } from "../helpers/app";

setDefaultTimeout(30_000);

describeEachStore("kv", (makeStore) => {
  test("kv round trip, 404, list, delete", async () => {
    const { app } = testApp({ store: await makeStore() });
    expect(await call(app, "GET", "/kv/color")).toMatchObject({ status: 404, json: { error: "key not found" } });
    expect(await call(app, "POST", "/kv/color", { json: { value: "blue" } })).toMatchObject({ status: 200, json: { key: "color", value: "blue" } });
    expect(await call(app, "GET", "/kv/color")).toMatchObject({ status: 200, json: { key: "color", value: "blue" } });
    expect((await call(app, "GET", "/kv")).json).toMatchObject({ keys: ["color"], count: 1 });
    expect((await call(app, "DELETE", "/kv/color")).json).toMatchObject({ key: "color", deleted: true });
    expect((await call(app, "DELETE", "/kv/color")).json).toMatchObject({ deleted: false });
    expect((await call(app, "GET", "/kv/color")).status).toBe(404);
  });

  test("kv keys are URL-decoded and stay in their namespace", async () => {
    const { app } = testApp({ store: await makeStore() });
    expect((await call(app, "POST", "/kv/a%20b%3Fc", { json: { value: "x" } })).json.key).toBe("a b?c");
    expect((await call(app, "GET", "/kv/a%20b%3Fc")).json.value).toBe("x");
    await call(app, "POST", "/login", { json: { username: "admin", password: "admin" } });
    expect((await call(app, "POST", "/kv/visits", { json: { value: "1000" } })).status).toBe(200);
    const visits = (await call(app, "GET", "/visits")).json.visits;
    expect(visits).toBe(1);
  });

  test("kv bad input: 4xx JSON and no data clobbered", async () => {
    const { app } = testApp({ store: await makeStore(), env: { MAX_VALUE_BYTES: "16", MAX_KEY_LENGTH: "8" } });
    await call(app, "POST", "/kv/k", { json: { value: "keep" } });
    const cases: Array<[string, Parameters<typeof call>[3], number]> = [
      ["/kv/k", { body: '{"value":', headers: { "content-type": "application/json" } }, 400],
      ["/kv/k", { json: { value: 42 } }, 422],
      ["/kv/k", { json: { value: null } }, 422],
      ["/kv/k", { json: { value: ["a"] } }, 422],
      ["/kv/k", { json: {} }, 422],
      ["/kv/k", { json: "just a string" }, 422],
      ["/kv/k", { body: "plain", headers: { "content-type": "text/plain" } }, 422],
      ["/kv/k", { json: { value: "x".repeat(17) } }, 413],
      ["/kv/k", { json: { value: "é".repeat(9) } }, 413],
      ["/kv/123456789", { json: { value: "x" } }, 422],
      ["/kv/a%00b", { json: { value: "x" } }, 422],
    ];
    for (const [path, init, status] of cases) {
      const res = await call(app, "POST", path, init);
      expect({ path, body: init, status: res.status }).toEqual({ path, body: init, status });
      expect(res.json).toBeObject();
    }
    expect((await call(app, "GET", "/kv/k")).json.value).toBe("keep");
    expect((await call(app, "POST", "/kv/k", { json: { value: "x".repeat(16) } })).status).toBe(200);
    // HTML forms work too: a urlencoded body with a value field is a valid write.
    const form = await call(app, "POST", "/kv/k", { body: "value=from+form", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(form).toMatchObject({ status: 200, json: { value: "from form" } });
  });

});

describe("/kv limits", () => {
  test("a new key past KV_MAX_KEYS is a 507 JSON error that says what to do; the others stay", async () => {
    const { app } = testApp({ env: { KV_MAX_KEYS: "2" } });
    expect((await call(app, "POST", "/kv/a", { json: { value: "1" } })).json).toMatchObject({ key: "a", expires_in: 86400 });
    expect((await call(app, "POST", "/kv/b", { json: { value: "2" } })).status).toBe(200);
    const full = await call(app, "POST", "/kv/c", { json: { value: "3" } });
    expect(full.status).toBe(507);
    expect(full.json).toEqual({
      error: "kv store full",
      detail: "at most 2 keys (KV_MAX_KEYS)",
      hint: expect.stringContaining("DELETE /kv/:key"),
    });
    expect((await call(app, "POST", "/kv/a", { json: { value: "overwrite" } })).status).toBe(200);
    expect((await call(app, "GET", "/kv")).json).toMatchObject({ keys: ["a", "b"], count: 2 });
  });

  test("past KV_MAX_BYTES: 507", async () => {
    const { app } = testApp({ env: { KV_MAX_BYTES: "2048" } });
    expect((await call(app, "POST", "/kv/a", { json: { value: "x".repeat(1500) } })).status).toBe(200);
    const full = await call(app, "POST", "/kv/b", { json: { value: "x".repeat(1000) } });
    expect(full.status).toBe(507);
    expect(full.json.detail).toBe("at most 2048 bytes of keys and values (KV_MAX_BYTES)");
  });
});

describe("/kv full on a Redis with maxmemory and noeviction", () => {
  let redis: RedisProcess;
  let store: RedisStore;
  beforeAll(async () => {
    redis = await startRedis({ args: ["--maxmemory", "24mb", "--maxmemory-policy", "noeviction"] });
    store = new RedisStore({ url: redis.url, port: 6379, keyPrefix: "kvfull:", timeoutMs: 2000, logger: silentLogger });
    store.connect();
    await store.waitUntilReady(5000);
  });
  afterAll(async () => {
    await store.close();
    await stopRedis(redis);
  });

  test("a flood of 64 KiB values gets 507 before Redis is full; login, /me and /visits keep working", async () => {
    const { app } = testApp({ store, env: { KV_MAX_BYTES: "4194304" } });
    const value = "v".repeat(64 * 1024 - 16);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 500; i++) {
      const { status } = await call(app, "POST", `/kv/flood-${i}`, { json: { value } });
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    expect([...statuses.keys()].sort()).toEqual([200, 507]);
    expect(statuses.get(200)).toBeLessThanOrEqual(64);

    const login = await call(app, "POST", "/login", { json: { username: "admin", password: "admin" } });
    expect(login.status).toBe(200);
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    expect((await call(app, "GET", "/me", { headers: { cookie } })).status).toBe(200);
    expect((await call(app, "GET", "/visits")).status).toBe(200);
    expect((await call(app, "GET", "/kv")).json.count).toBe(statuses.get(200));
  });
});
