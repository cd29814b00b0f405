// Redis going away and coming back, with a real redis-server of the test's own.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";

setDefaultTimeout(20_000);
import { DEFAULTS_MAX_AGE_MS } from "../../src/metrics";
import { RedisStore } from "../../src/store/redis";
import { silentLogger } from "../../src/logger";
import { call, testApp } from "../helpers/app";
import { freePort, startRedis, stopRedis, type RedisProcess } from "../../scripts/lib/redis";

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

function storeFor(redis: { url: string }, timeoutMs = 300) {
  const store = new RedisStore({ url: redis.url, port: 6379, keyPrefix: `outage:${Date.now()}:`, timeoutMs, logger: silentLogger });
  store.connect();
  cleanups.push(() => store.close());
  return store;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const result = await fn();
  return [result, performance.now() - t0];
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (await check()) return performance.now() - t0;
    await Bun.sleep(50);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe("Redis outage", () => {
  test("stopped mid-run: fast 503s, health stays 200, recovers by itself", async () => {
    const redis: RedisProcess = await startRedis();
    cleanups.push(() => stopRedis(redis));
    const store = storeFor(redis);
    await store.waitUntilReady(3000);
    const { app } = testApp({ store });
    expect((await call(app, "GET", "/visits")).json.visits).toBe(1);

    await redis.stop();
    for (const [method, path, init] of [
      ["GET", "/visits", {}],
      ["GET", "/kv/a", {}],
      ["POST", "/kv/a", { json: { value: "x" } }],
      ["GET", "/replicas", {}],
      ["POST", "/login", { json: { username: "admin", password: "admin" } }],
      ["GET", "/me", { headers: { cookie: "session_id=abc" } }],
    ] as const) {
      const [res, ms] = await timed(() => call(app, method, path, init));
      expect({ path, status: res.status, json: res.json }).toEqual({ path, status: 503, json: { error: "redis unavailable" } });
      expect(ms).toBeLessThan(1000);
    }
    const [health, healthMs] = await timed(() => call(app, "GET", "/health"));
    expect(health.status).toBe(200);
    expect(healthMs).toBeLessThan(100);
    expect((await call(app, "GET", "/ready")).status).toBe(200);
    expect((await call(app, "GET", "/metrics")).text).toContain("bun_k8s_store_up 0");

    await redis.restart();
    await eventually(async () => (await call(app, "GET", "/visits")).status === 200, 5000);
    // The gauge reuses a PING younger than DEFAULTS_MAX_AGE_MS.
    await eventually(async () => (await call(app, "GET", "/metrics")).text.includes("bun_k8s_store_up 1"), DEFAULTS_MAX_AGE_MS + 1000);
  });

  test("hung (SIGSTOP): 503 within the command timeout, recovers on SIGCONT", async () => {
    const redis = await startRedis();
    cleanups.push(() => stopRedis(redis));
    const store = storeFor(redis, 300);
    await store.waitUntilReady(3000);
    const { app } = testApp({ store });
    expect((await call(app, "GET", "/visits")).status).toBe(200);

    redis.pause();
    const results = await Promise.all(Array.from({ length: 20 }, () => timed(() => call(app, "GET", "/visits"))));
    for (const [res, ms] of results) {
      expect(res.status).toBe(503);
      expect(ms).toBeLessThan(1000);
    }
    const [health, healthMs] = await timed(() => call(app, "GET", "/health"));
    expect(health.status).toBe(200);
    expect(healthMs).toBeLessThan(100);

    redis.resume();
    await eventually(async () => (await call(app, "GET", "/visits")).status === 200, 5000);
  });

  test("down at start: the service starts anyway and connects when Redis appears", async () => {
    const port = await freePort();
    const store = storeFor({ url: `redis://127.0.0.1:${port}` });
    const { app } = testApp({ store });
    const [res, ms] = await timed(() => call(app, "GET", "/visits"));
    expect(res.status).toBe(503);
    expect(ms).toBeLessThan(1000);
    expect((await call(app, "GET", "/health")).status).toBe(200);
    const redis = await startRedis({ port });
    cleanups.push(() => stopRedis(redis));
    await eventually(async () => (await call(app, "GET", "/visits")).status === 200, 5000);
  });

  test("password: REDIS_PASSWORD and credentials in REDIS_URL both work; a wrong one is a 503", async () => {
    const redis = await startRedis({ password: "p@ss w0rd" });
    cleanups.push(() => stopRedis(redis));
    const viaUrl = storeFor(redis);
    await viaUrl.waitUntilReady(3000);
    expect(await viaUrl.incrementVisits()).toBe(1);

    const viaPassword = new RedisStore({ host: "127.0.0.1", port: redis.port, password: "p@ss w0rd", keyPrefix: "pw:", timeoutMs: 300, logger: silentLogger });
    viaPassword.connect();
    cleanups.push(() => viaPassword.close());
    await viaPassword.waitUntilReady(3000);
    expect(await viaPassword.incrementVisits()).toBe(1);

    const wrong = new RedisStore({ host: "127.0.0.1", port: redis.port, password: "wrong", keyPrefix: "pw:", timeoutMs: 300, logger: silentLogger });
    wrong.connect();
    cleanups.push(() => wrong.close());
    const { app } = testApp({ store: wrong });
    await Bun.sleep(300);
    const [res, ms] = await timed(() => call(app, "GET", "/visits"));
    expect(res.status).toBe(503);
    expect(ms).toBeLessThan(1000);
  });
});
