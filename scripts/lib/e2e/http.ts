// The HTTP part of the end-to-end suite: every route as documented in DESIGN.md and
// src/modules/*, against any base URL (one local process or a Service in front of N pods).
import { readyEndpointPods } from "../kube";
import { APP_SERVICE } from "../cluster-settings";
import { del, get, post, readCookie, request, serverOf, type Reply } from "./client";
import { assert, eq, shape, Skip, type Check, type Context } from "./harness";

const SESSION_COOKIE = "session_id";

const isJson = (r: Reply) => (r.headers.get("content-type") ?? "").includes("application/json");

function expectStatus(r: Reply, status: number, what: string) {
  assert(r.status === status, `${what}: expected HTTP ${status}, got ${r.status} ${r.text.slice(0, 200)}`);
}

function expectJson(r: Reply, status: number, what: string): Record<string, unknown> {
  expectStatus(r, status, what);
  assert(isJson(r), `${what}: expected application/json, got ${r.headers.get("content-type")}`);
  assert(r.json !== undefined && typeof r.json === "object" && r.json !== null, `${what}: body is not a JSON object: ${r.text.slice(0, 200)}`);
  return r.json as Record<string, unknown>;
}

/** A key no other run uses, so runs against a shared deployment do not collide. */
const uniqueKey = (label: string) => `e2e-${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** How many distinct `server` values the URL should show: given, else the Service's ready pods. */
async function expectedServers(ctx: Context): Promise<{ min: number; exact: boolean; why: string }> {
  if (ctx.expectServers !== null) return { min: ctx.expectServers, exact: true, why: "--expect-servers" };
  if (ctx.kube) {
    const pods = await readyEndpointPods(ctx.kube, APP_SERVICE);
    // Random spreading over N pods: with 60 requests, seeing at least 2 of them is certain enough.
    return { min: Math.min(pods.length, 2), exact: false, why: `${pods.length} ready endpoints of service/${APP_SERVICE}` };
  }
  return { min: 1, exact: false, why: "no cluster and no --expect-servers: at least one" };
}

let chaosEnabled: boolean | null = null;
async function chaosOn(ctx: Context): Promise<boolean> {
  if (chaosEnabled === null) {
    const config = expectJson(await get(ctx.baseUrl, "/config"), 200, "GET /config");
    chaosEnabled = config.chaos_enabled === true;
  }
  return chaosEnabled;
}

export const httpChecks: Check[] = [
  {
    name: "GET / greets and names the server and version",
    group: "http",
    async run(ctx) {
      const body = shape(expectJson(await get(ctx.baseUrl, "/"), 200, "GET /"), { message: "string", server: "string", version: "string" }, "GET /");
      assert(/^Hello from .+!$/.test(body.message as string), `GET /: unexpected message ${JSON.stringify(body.message)}`);
      assert((body.server as string).length > 0, "GET /: empty server");
      return `server ${body.server}, version ${body.version}`;
    },
  },
  {
    name: "GET /health and GET /ready answer 200",
    group: "http",
    async run(ctx) {
      eq(expectJson(await get(ctx.baseUrl, "/health"), 200, "GET /health"), { status: "healthy" }, "GET /health body");
      eq(expectJson(await get(ctx.baseUrl, "/ready"), 200, "GET /ready"), { status: "ready" }, "GET /ready body");
    },
  },
  {
    name: "GET /version and GET /config; /config shows no secret",
    group: "http",
    async run(ctx) {
      const version = shape(expectJson(await get(ctx.baseUrl, "/version"), 200, "GET /version"), { version: "string", revision: "string", server: "string", bun: "string" }, "GET /version");
      const config = shape(
        expectJson(await get(ctx.baseUrl, "/config"), 200, "GET /config"),
        { app_name: "string", log_level: "string", store: "string", chaos_enabled: "boolean", session_ttl: "number", max_stress_seconds: "number", redis_host: "string|null", version: "string" },
        "GET /config",
      );
      eq(config.version, version.version, "/config version equals /version version");
      for (const key of Object.keys(config)) {
        assert(!/password|secret|auth_users|redis_url/i.test(key) || typeof config[key] === "boolean", `GET /config exposes ${key}`);
      }
      return `store ${config.store}, redis_host ${config.redis_host}, chaos_enabled ${config.chaos_enabled}`;
    },
  },
  {
    name: "GET /info reports pod metadata (Downward API)",
    group: "http",
    async run(ctx) {
      const info = shape(
        expectJson(await get(ctx.baseUrl, "/info"), 200, "GET /info"),
        { pod_name: "string", pod_ip: "string", node_name: "string", namespace: "string", cpu_request: "string", cpu_limit: "string", memory_request: "string", memory_limit: "string", hostname: "string", uptime_seconds: "number" },
        "GET /info",
      );
      if (ctx.kube) {
        // In a pod, the Downward API fills these in; "unknown" would mean the env is missing.
        for (const key of ["pod_ip", "node_name", "namespace"]) assert(info[key] !== "unknown", `GET /info: ${key} is "unknown" in a cluster`);
        eq(info.pod_name, info.hostname, "pod_name equals the pod's hostname");
      }
      return `pod ${info.pod_name} on node ${info.node_name}, cpu ${info.cpu_request}/${info.cpu_limit}, memory ${info.memory_request}/${info.memory_limit}`;
    },
  },
  {
    name: "GET /visits: 60 sequential requests see a strictly increasing shared count; distinct servers as expected",
    group: "http",
    async run(ctx) {
      const counts: number[] = [];
      const servers = new Map<string, number>();
      for (let i = 0; i < 60; i++) {
        const body = shape(expectJson(await get(ctx.baseUrl, "/visits"), 200, "GET /visits"), { visits: "number", server: "string" }, "GET /visits");
        counts.push(body.visits as number);
        servers.set(body.server as string, (servers.get(body.server as string) ?? 0) + 1);
      }
      for (let i = 1; i < counts.length; i++) {
        assert(counts[i]! > counts[i - 1]!, `visit count did not increase: request ${i} got ${counts[i - 1]}, request ${i + 1} got ${counts[i]}`);
      }
      const read = shape(expectJson(await get(ctx.baseUrl, "/visits/count"), 200, "GET /visits/count"), { visits: "number" }, "GET /visits/count");
      assert((read.visits as number) >= counts.at(-1)!, `GET /visits/count ${read.visits} is below the last count ${counts.at(-1)}`);
      const expected = await expectedServers(ctx);
      const seen = [...servers.entries()].map(([s, n]) => `${s}=${n}`).join(", ");
      if (expected.exact) assert(servers.size === expected.min, `expected exactly ${expected.min} distinct servers (${expected.why}), saw ${servers.size}: ${seen}`);
      else assert(servers.size >= expected.min, `expected at least ${expected.min} distinct servers (${expected.why}), saw ${servers.size}: ${seen}`);
      return `counts ${counts[0]}..${counts.at(-1)}; servers: ${seen}`;
    },
  },
  {
    name: "GET /visits: 40 concurrent requests get 40 distinct counts (atomic increment)",
    group: "http",
    async run(ctx) {
      const replies = await Promise.all(Array.from({ length: 40 }, () => get(ctx.baseUrl, "/visits")));
      const counts = replies.map((r) => shape(expectJson(r, 200, "GET /visits"), { visits: "number" }, "GET /visits").visits as number);
      eq(new Set(counts).size, counts.length, "distinct counts among concurrent visits");
    },
  },
  {
    name: "GET /replicas lists every server that answered",
    group: "http",
    async run(ctx) {
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const s = serverOf(await get(ctx.baseUrl, "/"));
        if (s) seen.add(s);
      }
      // A replica appears with its first successful heartbeat: allow one heartbeat period and a bit.
      const config = expectJson(await get(ctx.baseUrl, "/config"), 200, "GET /config");
      const interval = typeof config.heartbeat_interval_seconds === "number" ? config.heartbeat_interval_seconds : 5;
      const deadline = Date.now() + (interval + 3) * 1000;
      const started = Date.now();
      for (;;) {
        const body = shape(expectJson(await get(ctx.baseUrl, "/replicas"), 200, "GET /replicas"), { replicas: "array", count: "number", server: "string" }, "GET /replicas");
        const replicas = body.replicas as unknown[];
        eq(body.count, replicas.length, "GET /replicas count");
        const hostnames = new Set<string>();
        for (const r of replicas) {
          const rep = shape(r, { id: "string", hostname: "string", version: "string", startedAt: "string", lastSeen: "string", requests: "number", visits: "number", cpu: "number", rss: "number", p50Ms: "number|null", p99Ms: "number|null" }, "a /replicas entry");
          hostnames.add(rep.hostname as string);
        }
        const missing = [...seen].filter((s) => !hostnames.has(s));
        if (missing.length === 0) return `${replicas.length} replica(s): ${[...hostnames].join(", ")} (listed after ${((Date.now() - started) / 1000).toFixed(1)}s)`;
        assert(Date.now() < deadline, `server(s) ${missing.join(", ")} answered but are not in /replicas after ${interval + 3}s (listed: ${[...hostnames].join(", ") || "none"})`);
        await Bun.sleep(250);
      }
    },
  },
  {
    name: "kv: write, read, list, delete, read again (404)",
    group: "http",
    async run(ctx) {
      const key = uniqueKey("kv");
      const value = `héllo ✓ ${Date.now()}`;
      const path = `/kv/${encodeURIComponent(key)}`;
      const missing = expectJson(await get(ctx.baseUrl, path), 404, "GET missing key");
      eq(missing.error, "key not found", "404 error");
      const written = expectJson(await post(ctx.baseUrl, path, { body: { value } }), 200, "POST /kv/:key");
      eq([written.key, written.value], [key, value], "POST /kv/:key echo");
      // Read it back several times: any replica must see it (shared store).
      for (let i = 0; i < 5; i++) {
        const read = expectJson(await get(ctx.baseUrl, path), 200, "GET /kv/:key");
        eq([read.key, read.value], [key, value], `GET /kv/:key (read ${i + 1}, server ${read.server})`);
      }
      const list = shape(expectJson(await get(ctx.baseUrl, "/kv"), 200, "GET /kv"), { keys: "array", count: "number" }, "GET /kv");
      assert((list.keys as string[]).includes(key), `GET /kv does not list ${key}`);
      eq(expectJson(await del(ctx.baseUrl, path), 200, "DELETE /kv/:key").deleted, true, "first DELETE deleted");
      eq(expectJson(await del(ctx.baseUrl, path), 200, "DELETE /kv/:key again").deleted, false, "second DELETE deleted");
      expectJson(await get(ctx.baseUrl, path), 404, "GET deleted key");
    },
  },
  {
    name: "kv: invalid input answers 422, 400 and 413 with a JSON error",
    group: "http",
    async run(ctx) {
      const path = `/kv/${uniqueKey("bad")}`;
      const noValue = expectJson(await post(ctx.baseUrl, path, { body: { nope: 1 } }), 422, "POST without value");
      assert(typeof noValue.error === "string", "422 body has error");
      const notString = expectJson(await post(ctx.baseUrl, path, { body: { value: 42 } }), 422, "POST with a number value");
      assert(typeof notString.error === "string", "422 body has error");
      const malformed = expectJson(await post(ctx.baseUrl, path, { raw: { text: "{not json", contentType: "application/json" } }), 400, "POST malformed JSON");
      assert(typeof malformed.error === "string", "400 body has error");
      const config = expectJson(await get(ctx.baseUrl, "/config"), 200, "GET /config");
      const max = config.max_value_bytes as number;
      const big = expectJson(await post(ctx.baseUrl, path, { body: { value: "x".repeat(max + 1) } }), 413, "POST value over max_value_bytes");
      eq(big.error, "value too large", "413 error");
      expectJson(await get(ctx.baseUrl, path), 404, "nothing was stored");
    },
  },
  {
    name: "auth: /me 401, bad login 401, login sets an HttpOnly cookie, /me on every replica, logout ends the session",
    group: "http",
    async run(ctx) {
      eq(expectJson(await get(ctx.baseUrl, "/me"), 401, "GET /me without cookie"), { error: "not authenticated", detail: "not authenticated" }, "GET /me without cookie");
      const bad = expectJson(await post(ctx.baseUrl, "/login", { body: { username: ctx.username, password: `${ctx.password}-wrong` } }), 401, "POST /login wrong password");
      eq(bad.detail, "invalid credentials", "wrong password detail");
      assert(readCookie((await post(ctx.baseUrl, "/login", { body: { username: ctx.username, password: "x-wrong" } })).headers, SESSION_COOKIE) === null, "a failed login must not set a session cookie");
      expectStatus(await post(ctx.baseUrl, "/login", { body: { username: ctx.username } }), 422, "POST /login without password");

      const login = await post(ctx.baseUrl, "/login", { body: { username: ctx.username, password: ctx.password } });
      const body = shape(expectJson(login, 200, `POST /login as ${ctx.username}`), { message: "string", username: "string", server: "string", expires_in: "number" }, "POST /login");
      eq(body.username, ctx.username, "login username");
      const cookie = readCookie(login.headers, SESSION_COOKIE);
      assert(cookie && cookie.value.length > 0, `POST /login set no ${SESSION_COOKIE} cookie (Set-Cookie: ${login.headers.getSetCookie().join(" | ")})`);
      const attrs = cookie.attributes.map((a) => a.toLowerCase());
      assert(attrs.includes("httponly"), `session cookie is not HttpOnly: ${cookie.attributes.join("; ")}`);
      assert(attrs.some((a) => a.startsWith("samesite=")), `session cookie has no SameSite: ${cookie.attributes.join("; ")}`);

      // The session lives in the shared store: every replica answers /me.
      const servers = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const me = shape(expectJson(await get(ctx.baseUrl, "/me", { cookie: cookie.pair }), 200, `GET /me with the session (request ${i + 1})`), { username: "string", server: "string", logged_in_at: "string" }, "GET /me");
        eq(me.username, ctx.username, "GET /me username");
        servers.add(me.server as string);
      }
      const tampered = await get(ctx.baseUrl, "/me", { cookie: `${SESSION_COOKIE}=${cookie.value.slice(0, -2)}zz` });
      expectStatus(tampered, 401, "GET /me with a tampered cookie");

      const logout = await post(ctx.baseUrl, "/logout", { cookie: cookie.pair });
      expectJson(logout, 200, "POST /logout");
      const cleared = readCookie(logout.headers, SESSION_COOKIE);
      assert(cleared !== null, "POST /logout did not clear the cookie");
      assert(cleared.value === "" || cleared.attributes.some((a) => /^max-age=0$/i.test(a) || /^expires=.*1970/i.test(a)), `logout cookie is not a deletion: ${cleared.pair}; ${cleared.attributes.join("; ")}`);
      const after = expectJson(await get(ctx.baseUrl, "/me", { cookie: cookie.pair }), 401, "GET /me with the old cookie after logout");
      assert(typeof after.detail === "string", "401 after logout has detail");
      return `/me answered by ${servers.size} server(s); after logout: ${after.detail}`;
    },
  },
  {
    name: "GET /metrics exposes Prometheus text with request and app metrics",
    group: "http",
    async run(ctx) {
      const config = expectJson(await get(ctx.baseUrl, "/config"), 200, "GET /config");
      const r = await get(ctx.baseUrl, "/metrics", { headers: { accept: "text/plain" } });
      if (config.metrics_enabled === false) {
        expectStatus(r, 404, "GET /metrics with METRICS_ENABLED=false");
        return "metrics disabled: 404";
      }
      expectStatus(r, 200, "GET /metrics");
      assert((r.headers.get("content-type") ?? "").startsWith("text/plain"), `GET /metrics content-type ${r.headers.get("content-type")}`);
      for (const name of ["http_requests_total", "http_request_duration_seconds_bucket", "bun_k8s_visits_served_total", "bun_k8s_ready", "bun_k8s_store_up"]) {
        assert(new RegExp(`^${name}[{ ]`, "m").test(r.text), `GET /metrics lacks ${name}`);
      }
      assert(/^bun_k8s_ready(\{[^}]*\})? 1$/m.test(r.text), "bun_k8s_ready is not 1 on a serving replica");
    },
  },
  {
    name: "GET /openapi/json documents the routes; /openapi serves the docs page",
    group: "http",
    async run(ctx) {
      const spec = shape(expectJson(await get(ctx.baseUrl, "/openapi/json"), 200, "GET /openapi/json"), { openapi: "string", paths: "object" }, "OpenAPI document");
      const paths = spec.paths as Record<string, Record<string, unknown>>;
      const want: Array<[string, string]> = [
        ["/", "get"], ["/health", "get"], ["/ready", "get"], ["/ready/disable", "post"], ["/crash", "post"], ["/stress", "get"],
        ["/visits", "get"], ["/replicas", "get"], ["/kv/{key}", "post"], ["/login", "post"], ["/me", "get"], ["/logout", "post"],
        ["/config", "get"], ["/version", "get"], ["/info", "get"],
      ];
      const missing = want.filter(([p, m]) => !paths[p]?.[m]).map(([p, m]) => `${m.toUpperCase()} ${p}`);
      assert(missing.length === 0, `OpenAPI document lacks ${missing.join(", ")}`);
      const page = await get(ctx.baseUrl, "/openapi", { headers: { accept: "text/html" } });
      expectStatus(page, 200, "GET /openapi");
      assert((page.headers.get("content-type") ?? "").includes("text/html"), `GET /openapi content-type ${page.headers.get("content-type")}`);
      return `${Object.keys(paths).length} paths documented`;
    },
  },
  {
    name: "every documented GET route without parameters answers (no 5xx), JSON where it says so",
    group: "http",
    async run(ctx) {
      const spec = expectJson(await get(ctx.baseUrl, "/openapi/json"), 200, "GET /openapi/json") as { paths: Record<string, Record<string, unknown>> };
      // Chaos routes burn CPU or memory and have their own check; /dns would resolve names; an
      // event stream never ends (tests/cluster/cluster-view.test.ts reads /cluster/events).
      const skip = (p: string) =>
        p.includes("{") || p.startsWith("/stress") || p === "/crash" || p.startsWith("/openapi") || p === "/dns" || p === "/cluster/events";
      const tried: string[] = [];
      for (const [path, methods] of Object.entries(spec.paths)) {
        if (!methods.get || skip(path)) continue;
        const r = await get(ctx.baseUrl, path, { headers: { accept: "*/*" } });
        assert(r.status < 500, `GET ${path} answered ${r.status}: ${r.text.slice(0, 200)}`);
        if (isJson(r)) assert(r.json !== undefined, `GET ${path}: content-type JSON but the body does not parse`);
        tried.push(`${path} ${r.status}`);
      }
      assert(tried.length >= 10, `only ${tried.length} GET routes found in the OpenAPI document`);
      return tried.join(", ");
    },
  },
  {
    name: "unknown route answers 404 JSON",
    group: "http",
    async run(ctx) {
      eq(expectJson(await get(ctx.baseUrl, `/${uniqueKey("nope")}`), 404, "GET unknown route"), { error: "not found" }, "404 body");
    },
  },
  {
    name: "chaos: /stress and /stress/memory answer with their shapes (or 403 when disabled); bad input 422",
    group: "http",
    async run(ctx) {
      if (!(await chaosOn(ctx))) {
        const r = expectJson(await get(ctx.baseUrl, "/stress?seconds=0"), 403, "GET /stress with chaos disabled");
        assert(typeof r.error === "string", "403 has error");
        expectStatus(await post(ctx.baseUrl, "/crash"), 403, "POST /crash with chaos disabled");
        return "chaos disabled: 403";
      }
      const cpu = shape(expectJson(await get(ctx.baseUrl, "/stress?seconds=1", { timeoutMs: 20_000 }), 200, "GET /stress?seconds=1"), { stressed_seconds: "number", requested_seconds: "number", capped: "boolean", workers: "number", elapsed_ms: "number", server: "string" }, "GET /stress");
      eq(cpu.capped, false, "1 s is not capped");
      assert((cpu.elapsed_ms as number) >= 950, `GET /stress?seconds=1 took only ${cpu.elapsed_ms} ms`);
      expectStatus(await get(ctx.baseUrl, "/stress?seconds=-1"), 422, "GET /stress?seconds=-1");
      expectStatus(await get(ctx.baseUrl, "/stress?seconds=abc"), 422, "GET /stress?seconds=abc");
      expectStatus(await get(ctx.baseUrl, "/stress?seconds=0x2"), 422, "GET /stress?seconds=0x2");
      const mem = shape(expectJson(await get(ctx.baseUrl, "/stress/memory?mb=1"), 200, "GET /stress/memory?mb=1"), { allocated_mb: "number", held_mb: "number", max_mb: "number", rss_mb: "number", server: "string" }, "GET /stress/memory");
      eq(mem.allocated_mb, 1, "allocated_mb");
      // Behind a Service the release may land on another pod: release on the same one when we can.
      const rel = shape(expectJson(await post(ctx.baseUrl, "/stress/memory/release"), 200, "POST /stress/memory/release"), { released_mb: "number", held_mb: "number" }, "POST /stress/memory/release");
      eq(rel.held_mb, 0, "held_mb after release");
      if (ctx.singleProcess) assert((rel.released_mb as number) >= 1, `released_mb ${rel.released_mb} (expected at least 1)`);
    },
  },
  {
    name: "probes: /ready/disable makes /ready 503 while /health stays 200; /health/disable makes /health 503; both re-enable",
    group: "http",
    async run(ctx) {
      if (!ctx.singleProcess) throw new Skip("only against a single local process (--single-process); in a cluster the readiness check runs per pod");
      try {
        eq(expectJson(await post(ctx.baseUrl, "/ready/disable"), 200, "POST /ready/disable").status, "not ready", "after /ready/disable");
        const ready = expectJson(await get(ctx.baseUrl, "/ready"), 503, "GET /ready while disabled");
        eq(ready.status, "not ready", "GET /ready status");
        expectJson(await get(ctx.baseUrl, "/health"), 200, "GET /health while readiness is disabled");
        expectJson(await get(ctx.baseUrl, "/visits"), 200, "the process still serves while not ready");
        eq(expectJson(await post(ctx.baseUrl, "/ready/enable"), 200, "POST /ready/enable").status, "ready", "after /ready/enable");
        expectJson(await get(ctx.baseUrl, "/ready"), 200, "GET /ready re-enabled");
        eq(expectJson(await post(ctx.baseUrl, "/health/disable"), 200, "POST /health/disable").status, "unhealthy", "after /health/disable");
        eq(expectJson(await get(ctx.baseUrl, "/health"), 503, "GET /health while disabled").status, "unhealthy", "GET /health status");
        eq(expectJson(await post(ctx.baseUrl, "/health/enable"), 200, "POST /health/enable").status, "healthy", "after /health/enable");
        expectJson(await get(ctx.baseUrl, "/health"), 200, "GET /health re-enabled");
      } finally {
        await post(ctx.baseUrl, "/ready/enable").catch(() => {});
        await post(ctx.baseUrl, "/health/enable").catch(() => {});
      }
    },
  },
  {
    name: "a request body over MAX_BODY_BYTES answers 413",
    group: "http",
    async run(ctx) {
      const config = expectJson(await get(ctx.baseUrl, "/config"), 200, "GET /config");
      const max = config.max_body_bytes as number;
      const r = await request(ctx.baseUrl, "POST", `/kv/${uniqueKey("big")}`, { raw: { text: JSON.stringify({ value: "y".repeat(max) }), contentType: "application/json" }, timeoutMs: 20_000 });
      expectStatus(r, 413, `POST a ${max + 12}-byte body`);
    },
  },
];
