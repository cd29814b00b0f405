// src/modules/kv: the key-value API, on both stores, and key encoding on a real server.
import { expect, test } from "bun:test";
import { call, describeEachStore, testApp } from "../helpers/app";

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
