// Every route of the service through app.handle(), against both stores where state is involved.
import { afterAll, describe, expect, test } from "bun:test";
import { MemoryStore } from "../src/store/memory";
import { BASE, bothStores, call, testApp } from "./helpers/app";

const stores = bothStores();
afterAll(stores.closeAll);

describe("probes and toggles", () => {
  test("health and readiness, disable and enable", async () => {
    const { app, deps } = testApp();
    expect(await call(app, "GET", "/health")).toMatchObject({ status: 200, json: { status: "healthy" } });
    expect(await call(app, "GET", "/ready")).toMatchObject({ status: 200, json: { status: "ready" } });

    expect(await call(app, "POST", "/ready/disable")).toMatchObject({ status: 200, json: { status: "not ready" } });
    expect(await call(app, "GET", "/ready")).toMatchObject({ status: 503, json: { status: "not ready" } });
    expect(await call(app, "GET", "/health")).toMatchObject({ status: 200 });
    expect(await call(app, "POST", "/ready/enable")).toMatchObject({ status: 200, json: { status: "ready" } });
    expect((await call(app, "GET", "/ready")).status).toBe(200);

    expect(await call(app, "POST", "/health/disable")).toMatchObject({ status: 200, json: { status: "unhealthy" } });
    expect(await call(app, "GET", "/health")).toMatchObject({ status: 503, json: { status: "unhealthy" } });
    expect(await call(app, "POST", "/health/enable")).toMatchObject({ status: 200, json: { status: "healthy" } });
    expect((await call(app, "GET", "/health")).status).toBe(200);

    deps.lifecycle.beginShutdown();
    expect(await call(app, "GET", "/ready")).toMatchObject({ status: 503, json: { status: "not ready", reason: "draining" } });
    expect(await call(app, "POST", "/ready/enable")).toMatchObject({ json: { status: "not ready" } });
    expect((await call(app, "GET", "/health")).status).toBe(200);
  });

  test("not ready before startup completes", async () => {
    const { app, deps } = testApp();
    deps.lifecycle.phase = "starting";
    expect((await call(app, "GET", "/ready")).status).toBe(503);
  });

  test("probes are GET only; wrong method is a 404 JSON", async () => {
    const { app } = testApp();
    const res = await call(app, "DELETE", "/health");
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: "not found" });
  });
});

describe("info routes", () => {
  test("GET / greets with APP_NAME and the hostname", async () => {
    const { app } = testApp({ env: { APP_NAME: "demo-app" } });
    const res = await call(app, "GET", "/");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ message: "Hello from demo-app!", server: "test-host" });
    expect(res.headers.get("content-type")).toContain("application/json");
  });

  test("GET /config shows settings and never a secret", async () => {
    const { app } = testApp({
      env: {
        REDIS_URL: "redis://:topsecret-pw@redis.example:6380",
        SESSION_SECRET: "topsecret-session",
        AUTH_USERS: "a:topsecret-user",
        MAX_STRESS_SECONDS: "42",
      },
      store: new MemoryStore(),
    });
    const res = await call(app, "GET", "/config");
    expect(res.json).toMatchObject({
      app_name: "bun-k8s",
      log_level: "info",
      max_stress_seconds: 42,
      redis_host: "redis.example",
      redis_port: 6380,
      session_cookie_signed: true,
    });
    expect(res.text).not.toContain("topsecret");
  });

  test("GET /config with REDIS_HOST", async () => {
    const { app } = testApp({ env: { REDIS_HOST: "redis", REDIS_PORT: "6379" } });
    expect((await call(app, "GET", "/config")).json).toMatchObject({ redis_host: "redis", redis_port: 6379 });
  });

  test("GET /version reports the package version", async () => {
    const { app } = testApp();
    const pkg = await Bun.file(new URL("../package.json", import.meta.url)).json();
    expect((await call(app, "GET", "/version")).json).toMatchObject({ version: pkg.version, server: "test-host" });
  });

  test("GET /info: Downward API values, and defaults outside Kubernetes", async () => {
    const { app } = testApp({
      podEnv: {
        POD_NAME: "bun-k8s-abc",
        POD_IP: "10.1.2.3",
        NODE_NAME: "node-1",
        POD_NAMESPACE: "demo",
        CPU_REQUEST: "50",
        CPU_LIMIT: "200",
        MEMORY_REQUEST: "67108864",
        MEMORY_LIMIT: "134217728",
      },
    });
    expect((await call(app, "GET", "/info")).json).toMatchObject({
      pod_name: "bun-k8s-abc",
      pod_ip: "10.1.2.3",
      node_name: "node-1",
      namespace: "demo",
      cpu_request: "50",
      cpu_limit: "200",
      memory_request: "67108864",
      memory_limit: "134217728",
    });
    const { app: bare } = testApp();
    expect((await call(bare, "GET", "/info")).json).toMatchObject({
      pod_name: "test-host",
      pod_ip: "unknown",
      node_name: "unknown",
      namespace: "unknown",
      cpu_request: "not set",
      cpu_limit: "not set",
      memory_request: "not set",
      memory_limit: "not set",
    });
  });

  test("OpenAPI document lists every route", async () => {
    const { app } = testApp();
    const doc = (await call(app, "GET", "/openapi/json")).json;
    for (const path of ["/", "/health", "/ready", "/crash", "/stress", "/stress/memory", "/visits", "/kv/{key}", "/login", "/me", "/logout", "/replicas", "/metrics", "/info", "/config", "/version"]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect((await call(app, "GET", "/openapi")).status).toBe(200);
  });
});

describe("chaos", () => {
  test("POST /crash answers, then exits non-zero", async () => {
    const codes: number[] = [];
    const { app } = testApp({ exit: (c) => codes.push(c) });
    const res = await call(app, "POST", "/crash");
    expect(res.status).toBe(200);
    expect(codes).toEqual([]);
    await Bun.sleep(200);
    expect(codes).toEqual([1]);
  });

  test("GET /stress burns CPU in a worker while probes keep answering", async () => {
    const { app } = testApp();
    const started = performance.now();
    const stress = call(app, "GET", "/stress?seconds=0.6");
    await Bun.sleep(100);
    const t0 = performance.now();
    expect((await call(app, "GET", "/health")).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(100);
    const res = await stress;
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ stressed_seconds: 0.6, server: "test-host", capped: false });
    expect(performance.now() - started).toBeGreaterThanOrEqual(550);
  });

  test("GET /stress is capped at MAX_STRESS_SECONDS", async () => {
    const { app } = testApp({ env: { MAX_STRESS_SECONDS: "1" } });
    const res = await call(app, "GET", "/stress?seconds=1000");
    expect(res.json).toMatchObject({ stressed_seconds: 1, requested_seconds: 1000, capped: true });
  });

  test.each(["abc", "-1", "NaN", "", "1e", "0x"])("GET /stress?seconds=%p is a 4xx JSON", async (value) => {
    const { app } = testApp();
    const res = await call(app, "GET", `/stress?seconds=${value}`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.json.error).toBeString();
  });

  test("GET /stress/memory holds memory up to the cap; release frees it", async () => {
    const { app } = testApp({ env: { MAX_MEMORY_STRESS_MB: "8" } });
    expect((await call(app, "GET", "/stress/memory?mb=5")).json).toMatchObject({ allocated_mb: 5, held_mb: 5, capped: false });
    expect((await call(app, "GET", "/stress/memory?mb=5")).json).toMatchObject({ allocated_mb: 3, held_mb: 8, capped: true });
    expect((await call(app, "POST", "/stress/memory/release")).json).toMatchObject({ released_mb: 8, held_mb: 0 });
    for (const bad of ["-1", "abc", "1.5"]) {
      expect((await call(app, "GET", `/stress/memory?mb=${bad}`)).status).toBe(422);
    }
  });

  test("CHAOS_ENABLED=false turns chaos routes into 403 JSON", async () => {
    const codes: number[] = [];
    const { app } = testApp({ env: { CHAOS_ENABLED: "false" }, exit: (c) => codes.push(c) });
    for (const [method, path] of [["POST", "/crash"], ["GET", "/stress?seconds=1"], ["GET", "/stress/memory?mb=1"]] as const) {
      const res = await call(app, method, path);
      expect(res.status).toBe(403);
      expect(res.json.error).toContain("disabled");
    }
    await Bun.sleep(150);
    expect(codes).toEqual([]);
  });
});

for (const [kind, makeStore] of stores.kinds) {
  describe(`state routes (${kind} store)`, () => {
    test("GET /visits increments a shared counter; /visits/count reads it", async () => {
      const store = await makeStore();
      const a = testApp({ store }).app;
      const b = testApp({ store }).app;
      const first = await call(a, "GET", "/visits");
      expect(first.json).toMatchObject({ visits: 1, server: "test-host" });
      expect(first.json).toHaveProperty("redis_host");
      expect((await call(b, "GET", "/visits")).json.visits).toBe(2);
      expect((await call(a, "GET", "/visits/count")).json.visits).toBe(2);
      expect((await call(a, "GET", "/visits/count")).json.visits).toBe(2);
    });

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

    test("login, /me, logout with cookies", async () => {
      const { app } = testApp({ store: await makeStore() });
      expect(await call(app, "GET", "/me")).toMatchObject({ status: 401, json: { detail: "not authenticated" } });
      expect(await call(app, "POST", "/login", { json: { username: "admin", password: "nope" } })).toMatchObject({ status: 401, json: { detail: "invalid credentials" } });
      expect(await call(app, "POST", "/login", { json: { username: "ghost", password: "admin" } })).toMatchObject({ status: 401 });

      const login = await call(app, "POST", "/login", { json: { username: "admin", password: "admin" } });
      expect(login).toMatchObject({ status: 200, json: { message: "logged in", username: "admin" } });
      const setCookie = login.headers.get("set-cookie")!;
      expect(setCookie).toMatch(/session_id=[A-Za-z0-9_-]{43}/);
      expect(setCookie).toContain("HttpOnly");
      expect(setCookie).toMatch(/SameSite=Lax/i);
      expect(setCookie).not.toContain("Secure");
      const cookie = setCookie.split(";")[0]!;

      const me = await call(app, "GET", "/me", { headers: { cookie } });
      expect(me).toMatchObject({ status: 200, json: { username: "admin", server: "test-host" } });

      const second = (await call(app, "POST", "/login", { json: { username: "admin", password: "admin" } })).headers.get("set-cookie")!;
      expect(second.split(";")[0]).not.toBe(cookie);

      const logout = await call(app, "POST", "/logout", { headers: { cookie } });
      expect(logout).toMatchObject({ status: 200, json: { message: "logged out" } });
      expect(logout.headers.get("set-cookie")).toMatch(/session_id=;.*Max-Age=0/);
      expect(await call(app, "GET", "/me", { headers: { cookie } })).toMatchObject({ status: 401, json: { detail: "session expired" } });
      expect(await call(app, "GET", "/me", { headers: { cookie: "session_id=forged" } })).toMatchObject({ status: 401, json: { detail: "session expired" } });
      expect((await call(app, "POST", "/logout")).status).toBe(200);
    });

    test("sessions expire after SESSION_TTL", async () => {
      const { app } = testApp({ store: await makeStore(), env: { SESSION_TTL: "1" } });
      const login = await call(app, "POST", "/login", { json: { username: "user", password: "user" } });
      const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
      expect((await call(app, "GET", "/me", { headers: { cookie } })).status).toBe(200);
      await Bun.sleep(1100);
      expect(await call(app, "GET", "/me", { headers: { cookie } })).toMatchObject({ status: 401, json: { detail: "session expired" } });
    });

    test("a session made on one replica is seen by another", async () => {
      if (kind === "memory") return; // the embedded store is per process by design
      const store = await makeStore();
      const a = testApp({ store }).app;
      const b = testApp({ store }).app;
      const cookie = (await call(a, "POST", "/login", { json: { username: "admin", password: "admin" } })).headers.get("set-cookie")!.split(";")[0]!;
      expect((await call(b, "GET", "/me", { headers: { cookie } })).json.username).toBe("admin");
    });

    test("GET /replicas lists heartbeats", async () => {
      const store = await makeStore();
      const { app, deps } = testApp({ store });
      await store.heartbeat({ id: "pod-1", hostname: "pod-1", podIp: "1.2.3.4", version: "1", startedAt: "s", lastSeen: "l", requests: 5, visits: 1 }, 30);
      const res = await call(app, "GET", "/replicas");
      expect(res.json).toMatchObject({ count: 1, replicas: [{ id: "pod-1", hostname: "pod-1", version: "1", startedAt: "s", requests: 5, visits: 1 }], server: deps.hostname });
    });
  });
}

describe("sessions: configuration", () => {
  test("AUTH_USERS replaces the demo users", async () => {
    const { app } = testApp({ env: { AUTH_USERS: "carol:pa55" } });
    expect((await call(app, "POST", "/login", { json: { username: "admin", password: "admin" } })).status).toBe(401);
    expect((await call(app, "POST", "/login", { json: { username: "carol", password: "pa55" } })).status).toBe(200);
  });

  test("SESSION_SECRET signs the cookie; a tampered cookie is rejected", async () => {
    const { app } = testApp({ env: { SESSION_SECRET: "s3cr3t-for-tests", COOKIE_SECURE: "true" } });
    const login = await call(app, "POST", "/login", { json: { username: "admin", password: "admin" } });
    const setCookie = login.headers.get("set-cookie")!;
    expect(setCookie).toContain("Secure");
    const cookie = setCookie.split(";")[0]!;
    const value = decodeURIComponent(cookie.slice("session_id=".length));
    expect(value).toContain(".");
    expect((await call(app, "GET", "/me", { headers: { cookie } })).status).toBe(200);
    const [id] = value.split(".");
    const unsigned = await call(app, "GET", "/me", { headers: { cookie: `session_id=${id}` } });
    expect(unsigned.status).toBe(401);
    const tampered = await call(app, "GET", "/me", { headers: { cookie: `session_id=${encodeURIComponent(id + ".AAAA")}` } });
    expect(tampered.status).toBe(401);
  });

  test("a stale or foreign session_id cookie never blocks login or logout", async () => {
    // An old SESSION_SECRET (after rotating it), no signature, another app's JSON or odd bytes.
    const { app: signed } = testApp({ env: { SESSION_SECRET: "rotated-secret" } });
    const old = (await call(testApp({ env: { SESSION_SECRET: "old-secret" } }).app, "POST", "/login", { json: { username: "admin", password: "admin" } }))
      .headers.get("set-cookie")!.split(";")[0]!;
    const { app: plain } = testApp();
    const long = `session_id=${"a".repeat(600)}`;
    for (const [app, cookie] of [
      [signed, old], [signed, "session_id=unsigned"], [signed, 'session_id={"a":1}'],
      [plain, 'session_id={"a":1}'], [plain, "session_id=[1,2]"], [plain, "session_id=%ZZ"], [plain, long],
    ] as const) {
      const headers = { cookie };
      expect({ cookie, me: await call(app, "GET", "/me", { headers }) }).toMatchObject({ cookie, me: { status: 401, json: { detail: "session expired" } } });
      const logout = await call(app, "POST", "/logout", { headers });
      expect({ cookie, status: logout.status, cleared: logout.headers.get("set-cookie") }).toMatchObject({ cookie, status: 200, cleared: expect.stringMatching(/session_id=;.*Max-Age=0/) });
      const login = await call(app, "POST", "/login", { json: { username: "admin", password: "admin" }, headers });
      expect({ cookie, status: login.status }).toEqual({ cookie, status: 200 });
      const fresh = login.headers.get("set-cookie")!.split(";")[0]!;
      expect((await call(app, "GET", "/me", { headers: { cookie: fresh } })).json.username).toBe("admin");
    }
  });

  test("login bad input is 4xx JSON", async () => {
    const { app } = testApp();
    for (const init of [
      { json: {} },
      { json: { username: "admin" } },
      { json: { username: 1, password: 2 } },
      { json: { username: "", password: "x" } },
      { json: { username: "a".repeat(500), password: "x" } },
      { body: "{oops", headers: { "content-type": "application/json" } },
    ]) {
      const res = await call(app, "POST", "/login", init);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.json).toBeObject();
    }
  });
});

describe("bad input everywhere", () => {
  test("huge bodies get 413 JSON before parsing", async () => {
    const { app } = testApp({ env: { MAX_BODY_BYTES: "2048" } });
    const res = await call(app, "POST", "/kv/big", { json: { value: "x".repeat(5000) } });
    expect(res.status).toBe(413);
    expect(res.json.error).toContain("too large");
  });

  test("a /kv key that is not valid percent-encoding is 422 on the real server, not an alias of U+FFFD", async () => {
    const { app } = testApp();
    const live = app.listen({ port: 0, hostname: "127.0.0.1" });
    const base = `http://127.0.0.1:${live.server!.port}`;
    try {
      const send = (method: string, key: string, body?: unknown) =>
        fetch(`${base}/kv/${key}`, body === undefined ? { method } : { method, body: JSON.stringify(body), headers: { "content-type": "application/json" } });
      for (const key of ["%ZZ", "%", "%FF", "a%2", "%E0%A4%A"]) {
        for (const [method, body] of [["POST", { value: key }], ["GET"], ["DELETE"]] as const) {
          const res = await send(method, key, body);
          expect({ key, method, status: res.status }).toEqual({ key, method, status: 422 });
          expect((await res.json()).error).toBe("invalid request");
        }
      }
      // U+FFFD sent properly encoded is an ordinary key, and the only one stored.
      expect((await send("POST", "%EF%BF%BD", { value: "replacement" })).status).toBe(200);
      expect(await (await send("GET", "%EF%BF%BD")).json()).toMatchObject({ key: "\uFFFD", value: "replacement" });
      expect((await (await fetch(`${base}/kv`)).json()).keys).toEqual(["\uFFFD"]);
    } finally {
      await live.stop(true);
    }
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

describe("metrics", () => {
  test("request counts and latency by route template, readiness and visits", async () => {
    const { app } = testApp();
    await call(app, "GET", "/kv/some-key");
    await call(app, "GET", "/visits");
    await call(app, "GET", "/nope");
    await call(app, "POST", "/ready/disable");
    await Bun.sleep(10);
    const res = await call(app, "GET", "/metrics");
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(res.text).toContain('http_requests_total{method="GET",route="/kv/:key",status="404"} 1');
    expect(res.text).toContain('http_requests_total{method="GET",route="/visits",status="200"} 1');
    expect(res.text).toContain('http_requests_total{method="GET",route="unmatched",status="404"} 1');
    expect(res.text).toMatch(/http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/visits",status="200"\} 1/);
    expect(res.text).toContain("bun_k8s_visits_served_total 1");
    expect(res.text).toContain("bun_k8s_ready 0");
    expect(res.text).toContain("bun_k8s_store_up 1");
  });

  test("process metrics are exported when default metrics are on", async () => {
    const { Metrics } = await import("../src/metrics");
    const m = new Metrics();
    const text = await m.registry.metrics();
    expect(text).toContain("process_resident_memory_bytes");
    expect(text).toContain("process_cpu_user_seconds_total");
  });
});

describe("hot routes stay synchronous", () => {
  // Elysia decides from handler source text whether to compile a route as async; a Promise per
  // request costs throughput on the routes load balancers and probes hit most.
  test.each(["/", "/health", "/ready", "/version"])("GET %s answers without a Promise", (path) => {
    const { app } = testApp();
    const result = app.fetch(new Request(BASE + path)) as unknown;
    expect(result instanceof Promise).toBe(false);
    expect((result as Response).status).toBe(200);
  });
});
