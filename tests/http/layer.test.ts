// src/http/layer.ts: one layer around every response: security headers, the body-size limit,
// the error contract, and RED metrics for every status, including errors raised before routing.
import { describe, expect, test } from "bun:test";
import { SECURITY_HEADERS } from "../../src/http/layer";
import { call, testApp } from "../helpers/app";

const countOf = (text: string, method: string, route: string, status: number) =>
  Number(
    text
      .split("\n")
      .find((l) => l.startsWith(`http_requests_total{method="${method}",route="${route}",status="${status}"} `))
      ?.split(" ")[1] ?? 0,
  );

describe("security headers", () => {
  test("are on every kind of response: JSON, error, 404, 413, HTML, a handler's own Response, metrics", async () => {
    const { app } = testApp({ env: { MAX_BODY_BYTES: "2048" } });
    const responses = [
      await call(app, "GET", "/version"),
      await call(app, "GET", "/kv/missing"),
      await call(app, "GET", "/no-such-route"),
      await call(app, "POST", "/kv/big", { json: { value: "x".repeat(5000) } }),
      await call(app, "GET", "/ui"),
      await call(app, "GET", "/status/418"),
      await call(app, "GET", "/metrics"),
    ];
    for (const res of responses) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
        expect({ status: res.status, name, value: res.headers.get(name) }).toEqual({ status: res.status, name, value });
      }
    }
  });
});

describe("body size", () => {
  test("a declared body over MAX_BODY_BYTES is 413 in the error contract, before parsing", async () => {
    const { app } = testApp({ env: { MAX_BODY_BYTES: "2048" } });
    // Not JSON at all: a parse would answer 400, so 413 shows the check ran first.
    const res = await call(app, "POST", "/kv/big", { body: "x".repeat(5000), headers: { "content-type": "application/json" } });
    expect(res.status).toBe(413);
    expect(res.json).toEqual({ error: "request body too large", detail: { max_bytes: 2048, bytes: 5000 } });
  });

  test.each(["0x10", "1e3", "12.0", "-1", "abc"])("Content-Length %p is 400, never a number", async (length) => {
    const { app } = testApp();
    const res = await app.handle(
      new Request("http://localhost/kv/a", { method: "POST", body: '{"value":"v"}', headers: { "content-type": "application/json", "content-length": length } }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid content-length" });
  });
});

describe("error contract", () => {
  // One request per kind of error the service produces: every body is {error, detail?, hint?}.
  test("every error body has a string error and nothing but detail and hint beside it", async () => {
    const { app } = testApp({ env: { MAX_BODY_BYTES: "2048", CHAOS_ENABLED: "false" } });
    const errors = [
      await call(app, "GET", "/no-such-route"),
      await call(app, "DELETE", "/health"),
      await call(app, "GET", "/kv/missing"),
      await call(app, "POST", "/kv/a", { body: "{not json", headers: { "content-type": "application/json" } }),
      await call(app, "POST", "/kv/a", { json: { wrong: 1 } }),
      await call(app, "POST", "/kv/big", { json: { value: "x".repeat(5000) } }),
      await call(app, "POST", "/login", { json: { username: "admin", password: "nope" } }),
      await call(app, "GET", "/me"),
      await call(app, "POST", "/crash"),
      await call(app, "GET", "/stress?seconds=0x2"),
      await call(app, "GET", "/status/101"),
      await call(app, "GET", "/dns?name=-bad-"),
      await call(app, "POST", "/faults/enable", { json: { error_rate: 0 } }),
    ];
    for (const res of errors) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(typeof res.json.error).toBe("string");
      expect(Object.keys(res.json).filter((k) => !["error", "detail", "hint"].includes(k))).toEqual([]);
    }
  });

  test("auth errors keep FastAPI's detail and carry error too", async () => {
    const { app } = testApp();
    expect((await call(app, "GET", "/me")).json).toEqual({ error: "not authenticated", detail: "not authenticated" });
    expect((await call(app, "POST", "/login", { json: { username: "admin", password: "x" } })).json).toEqual({
      error: "invalid credentials",
      detail: "invalid credentials",
    });
  });

  test("odd paths and methods are 404 JSON", async () => {
    const { app } = testApp();
    for (const [method, path] of [["GET", "/%2e%2e/etc/passwd"], ["PATCH", "/kv/x"], ["GET", "/" + "a".repeat(5000)], ["PUT", "/login"]]) {
      const res = await call(app, method!, path!);
      expect(res.status).toBe(404);
      expect(res.json).toEqual({ error: "not found" });
    }
  });
});

describe("every response is counted", () => {
  test("413, 404, 422, 401 and 200 each land in http_requests_total with their route", async () => {
    const { app } = testApp({ env: { MAX_BODY_BYTES: "2048" } });
    await call(app, "POST", "/kv/big", { json: { value: "x".repeat(5000) } });
    await call(app, "POST", "/kv/big", { json: { value: "x".repeat(5000) } });
    await call(app, "GET", "/no-such-route");
    await call(app, "GET", "/stress?seconds=%20");
    await call(app, "GET", "/me");
    await call(app, "GET", "/version");
    const text = (await call(app, "GET", "/metrics")).text;
    expect(countOf(text, "POST", "/kv/:key", 413)).toBe(2);
    expect(countOf(text, "GET", "unmatched", 404)).toBe(1);
    expect(countOf(text, "GET", "/stress", 422)).toBe(1);
    expect(countOf(text, "GET", "/me", 401)).toBe(1);
    expect(countOf(text, "GET", "/version", 200)).toBe(1);
  });
});
