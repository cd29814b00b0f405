// Traffic, discovery and debugging tools: /env, /headers, /echo, /delay, /status, /dns, /chunked, /ws/echo.
import { describe, expect, test } from "bun:test";
import { maskEnv, maskUrlCredentials } from "../../src/modules/tools/env";
import { parseResolvConf, searchCandidates, validateDnsName } from "../../src/modules/tools/dns";
import { call, testApp } from "../helpers/app";

const { app } = testApp({
  env: { MAX_DELAY_SECONDS: "3", MAX_ECHO_BYTES: "1024", MAX_WS_MESSAGE_BYTES: "64" },
  podEnv: {
    POD_NAME: "web-1",
    APP_NAME: "demo",
    REDIS_URL: "redis://:hunter2@redis:6379/0",
    REDIS_PASSWORD: "hunter2",
    SESSION_SECRET: "s3cret-session",
    AUTH_USERS: "admin:adminpw",
    GITHUB_TOKEN: "ghp_abc",
    MY_API_KEY: "k-123",
    BASIC_AUTH_HEADER: "Basic xyz",
    DATABASE_URL: "postgres://app:dbpass@db:5432/app",
    REDIS_KEY_PREFIX: "bun-k8s:",
  },
});

describe("GET /env", () => {
  test("shows ConfigMap and Downward API values, masks every secret", async () => {
    const res = await call(app, "GET", "/env");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const env = res.json.env as Record<string, string>;
    expect(env.POD_NAME).toBe("web-1");
    expect(env.APP_NAME).toBe("demo");
    // A known, non-secret setting whose name contains KEY stays readable.
    expect(env.REDIS_KEY_PREFIX).toBe("bun-k8s:");
    for (const name of ["REDIS_PASSWORD", "SESSION_SECRET", "AUTH_USERS", "GITHUB_TOKEN", "MY_API_KEY", "BASIC_AUTH_HEADER"]) {
      expect(env[name]).toBe("****");
      expect(res.json.masked).toContain(name);
    }
    expect(env.REDIS_URL).toBe("redis://:****@redis:6379/0");
    expect(env.DATABASE_URL).toBe("postgres://app:****@db:5432/app");
    for (const secret of ["hunter2", "s3cret-session", "adminpw", "ghp_abc", "k-123", "xyz", "dbpass"]) {
      expect(res.text).not.toContain(secret);
    }
  });

  test("mask rules as plain functions", () => {
    expect(maskUrlCredentials("redis://redis:6379")).toBe("redis://redis:6379");
    expect(maskUrlCredentials("https://tok@host/x")).toBe("https://****@host/x");
    expect(maskUrlCredentials("not a url: a:b@c")).toBe("not a url: a:b@c");
    const { env, masked } = maskEnv({ REDIS_URL: "redis://redis:6379", HOME: "/root", PRIVATE_THING: "x" });
    expect(env).toEqual({ HOME: "/root", PRIVATE_THING: "****", REDIS_URL: "redis://redis:6379" });
    expect(masked).toEqual(["PRIVATE_THING"]);
  });
});

describe("GET /env masking holds against what the audit tried", () => {
  const leaks: Array<[name: string, value: string, secrets: string[]]> = [
    ["CACHE_URL", "redis://default:hunt@er2-secret-tail@cache:6379", ["hunt", "er2-secret-tail"]],
    ["DATABASE_URL", "postgres://user:p@ss#word@db/app", ["p@ss", "ss#word", "word"]],
    ["UPSTREAMS", "redis://a:first-pw@h1:6379,redis://b:second-pw@h2:6379", ["first-pw", "second-pw"]],
    ["SPACED_URLS", "http://x:one-pw@h1 https://two-token@h2/path", ["one-pw", "two-token"]],
    ["COMMA_IN_PW", "redis://u:pa,ss-tail@h:6379", ["pa,ss", "ss-tail"]],
    ["MY_DB_PASS", "plain-pass-value", ["plain-pass-value"]],
    ["DB_PASSPHRASE", "phrase-value", ["phrase-value"]],
    ["API_PWD", "pwd-value", ["pwd-value"]],
    ["SOME_CREDS", "creds-value", ["creds-value"]],
    ["SIGNING_SALT", "salt-value", ["salt-value"]],
    ["PG_CONNECTION", "host=db user=app password=pg-secret-1 dbname=app", ["pg-secret-1"]],
    ["ODBC", "Server=db;Uid=app;Pwd='odbc secret';Database=x", ["odbc secret", "odbc"]],
    ["CALLBACK", "https://hooks.example/cb?api_key=cb-key-1&x=1", ["cb-key-1"]],
  ];

  test.each(leaks)("%s: no part of the secret is shown", (name, value, secrets) => {
    const { env, masked } = maskEnv({ [name]: value });
    expect(masked).toEqual([name]);
    for (const secret of secrets) expect(env[name]).not.toContain(secret);
  });

  test("what is not secret stays readable: hosts, users, other pairs, the shell's PWD", () => {
    const { env } = maskEnv({
      CACHE_URL: "redis://default:hunt@er2@cache:6379",
      UPSTREAMS: "redis://a:x@h1:6379,redis://h2:6379",
      PG_CONNECTION: "host=db user=app password=pw dbname=app",
      PWD: "/app",
      HOME: "/home/app",
    });
    expect(env.CACHE_URL).toBe("redis://default:****@cache:6379");
    expect(env.UPSTREAMS).toBe("redis://a:****@h1:6379,redis://h2:6379");
    expect(env.PG_CONNECTION).toBe("host=db user=app password=**** dbname=app");
    expect(env.PWD).toBe("/app");
    expect(env.HOME).toBe("/home/app");
  });
});

describe("GET /headers", () => {
  test("credential headers are masked by name: api keys and forwarded tokens", async () => {
    const sent = {
      "x-api-key": "hdr-key-1",
      "x-auth-request-access-token": "hdr-token-2",
      "x-forwarded-access-token": "hdr-token-3",
      "x-amz-security-token": "hdr-token-4",
      "x-request-id": "req-5",
    };
    for (const path of ["/headers", "/echo"]) {
      const res = await call(app, path === "/echo" ? "POST" : "GET", path, { headers: sent });
      expect(res.status).toBe(200);
      for (const secret of ["hdr-key-1", "hdr-token-2", "hdr-token-3", "hdr-token-4"]) expect(res.text).not.toContain(secret);
      expect(res.json.headers["x-request-id"]).toBe("req-5");
      expect(res.json.headers["x-api-key"]).toBe("****");
    }
  });


  test("returns what the client and proxies sent, with credentials masked", async () => {
    const res = await call(app, "GET", "/headers", {
      headers: { "x-forwarded-for": "203.0.113.7", cookie: "session_id=abc123; theme=dark", authorization: "Bearer tok-999" },
    });
    expect(res.status).toBe(200);
    expect(res.json.headers["x-forwarded-for"]).toBe("203.0.113.7");
    expect(res.json.headers.cookie).toBe("session_id=****; theme=****");
    expect(res.json.headers.authorization).toBe("Bearer ****");
    expect(res.text).not.toContain("abc123");
    expect(res.text).not.toContain("tok-999");
    expect(res.json.masked.sort()).toEqual(["authorization", "cookie"]);
  });
});

describe("POST /echo", () => {
  test("JSON body comes back as JSON with the headers", async () => {
    const res = await call(app, "POST", "/echo?a=1", { json: { hello: "world" }, headers: { "x-trace": "t1" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.json).toMatchObject({
      method: "POST",
      path: "/echo",
      query: { a: "1" },
      body: '{"hello":"world"}',
      encoding: "utf-8",
      json: { hello: "world" },
      body_bytes: 17,
    });
    expect(res.json.headers["x-trace"]).toBe("t1");
  });

  test("HTML is never reflected as HTML", async () => {
    const html = "<script>alert(1)</script>";
    for (const path of ["/echo", "/echo?format=text"]) {
      const res = await call(app, "POST", path, { body: html, headers: { "content-type": "text/html", accept: "text/html" } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).not.toContain("html");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      if (path.endsWith("text")) {
        expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
        expect(res.text).toBe(html);
      } else {
        expect(res.json.body).toBe(html);
      }
    }
  });

  test("binary bodies come back as base64; an empty body is fine", async () => {
    const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0x01]);
    const res = await app.handle(new Request("http://localhost/echo", { method: "POST", body: bytes }));
    const json = (await res.json()) as { body: string; encoding: string; body_bytes: number };
    expect(json).toMatchObject({ encoding: "base64", body_bytes: 4 });
    expect(Buffer.from(json.body, "base64")).toEqual(Buffer.from(bytes));
    const empty = await call(app, "POST", "/echo");
    expect(empty.json).toMatchObject({ body: "", body_bytes: 0 });
  });

  test("oversized bodies get 413, with or without Content-Length", async () => {
    const big = "x".repeat(1025);
    const declared = await call(app, "POST", "/echo", { body: big, headers: { "content-type": "text/plain" } });
    expect(declared.status).toBe(413);
    expect(declared.json).toEqual({ error: "request body too large", detail: { max_bytes: 1024, bytes: 1025 } });
    // Streamed without Content-Length: counted while reading.
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode("y".repeat(300)));
        c.close();
      },
    });
    const res = await app.handle(new Request("http://localhost/echo", { method: "POST", body: stream }));
    expect(res.status).toBe(413);
    const exact = await call(app, "POST", "/echo", { body: "z".repeat(1024) });
    expect(exact.status).toBe(200);
    expect(exact.json.body_bytes).toBe(1024);
  });

  test("bad query is 422", async () => {
    expect((await call(app, "POST", "/echo?format=html", { body: "x" })).status).toBe(422);
  });
});

describe("GET /delay/:seconds", () => {
  // The wait itself is timed on a real listener (tests/system/server.test.ts).
  test("answers with the seconds it waited", async () => {
    const res = await call(app, "GET", "/delay/0");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ delayed_seconds: 0, server: "test-host" });
    expect(res.json.elapsed_ms).toBeLessThan(500);
  });

  test("out of range or not a number: 422", async () => {
    for (const bad of ["4", "-1", "abc", "1e9", "0.5", "0x1", "%20"]) {
      const res = await call(app, "GET", `/delay/${bad}`);
      expect(res.status).toBe(422);
      expect(res.json.error).toBe("invalid request");
    }
  });
});

describe("GET|POST /status/:code", () => {
  test("answers with the code asked for", async () => {
    for (const code of [200, 201, 302, 404, 418, 429, 500, 503, 599]) {
      for (const method of ["GET", "POST"]) {
        const res = await call(app, method, `/status/${code}`);
        expect(res.status).toBe(code);
        expect(res.json).toMatchObject({ status: code });
      }
    }
    const teapot = await call(app, "GET", "/status/418");
    expect(teapot.json.reason).toBe("I'm a Teapot");
  });

  test("no-body statuses have no body", async () => {
    for (const code of [204, 205, 304]) {
      const res = await call(app, "GET", `/status/${code}`);
      expect(res.status).toBe(code);
      expect(res.text).toBe("");
    }
  });

  test("1xx is 400, outside 100-599 or not an integer is 422, never 500", async () => {
    for (const code of [100, 101, 103, 199]) {
      const res = await call(app, "GET", `/status/${code}`);
      expect(res.status).toBe(400);
      expect(res.json.detail).toEqual({ code });
    }
    for (const bad of ["99", "600", "0", "-200", "200.5", "abc", "1000"]) {
      const res = await call(app, "GET", `/status/${bad}`);
      expect(res.status).toBe(422);
    }
  });

  test("request metrics record the class of the status that was sent (the client picks the code)", async () => {
    const { app: a, deps } = testApp();
    await call(a, "GET", "/status/503");
    await call(a, "GET", "/status/502");
    await Bun.sleep(20);
    const text = await deps.metrics.exposition();
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/status\/:code",status="5xx"\} 2/);
  });
});

describe("GET /dns", () => {
  test("resolves through the system resolver and reports resolv.conf", async () => {
    const res = await call(app, "GET", "/dns?name=localhost");
    expect(res.status).toBe(200);
    expect(res.json.name).toBe("localhost");
    expect(res.json.type).toBe("ANY");
    const addresses = (res.json.addresses as Array<{ address: string }>).map((a) => a.address);
    expect(addresses.some((a) => a === "127.0.0.1" || a === "::1")).toBe(true);
    const conf = parseResolvConf(await Bun.file("/etc/resolv.conf").text().catch(() => ""));
    expect(res.json.search).toEqual(conf.search);
    expect(res.json.ndots).toBe(conf.ndots);
    const v4 = await call(app, "GET", "/dns?name=localhost&type=A");
    expect((v4.json.addresses as Array<{ family: number }>).every((a) => a.family === 4)).toBe(true);
  });

  test("unknown names are 404 JSON, not a crash", async () => {
    const res = await call(app, "GET", "/dns?name=no-such-host.invalid");
    expect([404, 502, 504]).toContain(res.status);
    expect(res.json.detail.name).toBe("no-such-host.invalid");
    const srv = await call(app, "GET", "/dns?name=_redis._tcp.no-such-host.invalid.&type=SRV");
    expect([404, 502, 504]).toContain(srv.status);
    expect(srv.json.error).toBeString();
  });

  test("invalid names are refused before any lookup", async () => {
    const bad = [
      "-leading", "trailing-", "under_score", "two..dots", "a".repeat(64), `${"a".repeat(60)}.`.repeat(5) + "com",
      "10.0.0.1", "http://evil", "host:8080", "sp ace", "ünïcode", "_srv._tcp.x",
    ];
    for (const name of bad) {
      const res = await call(app, "GET", `/dns?name=${encodeURIComponent(name)}`);
      expect(res.status).toBe(422);
    }
    expect((await call(app, "GET", "/dns")).status).toBe(422);
    expect((await call(app, "GET", "/dns?name=redis&type=MX")).status).toBe(422);
  });

  test("name validation and search path as plain functions", () => {
    expect(validateDnsName("Redis")).toEqual({ name: "redis" });
    expect(validateDnsName("redis.default.svc.cluster.local.")).toEqual({ name: "redis.default.svc.cluster.local." });
    expect(validateDnsName("_redis._tcp.redis", "SRV")).toEqual({ name: "_redis._tcp.redis" });
    expect("error" in validateDnsName("_redis._tcp.redis")).toBe(true);
    expect("error" in validateDnsName("a".repeat(254))).toBe(true);
    const k8s = parseResolvConf(
      "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5 # comment\n",
    );
    expect(k8s).toEqual({ nameservers: ["10.96.0.10"], search: ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"], ndots: 5 });
    expect(searchCandidates("redis", k8s)).toEqual([
      "redis.default.svc.cluster.local.", "redis.svc.cluster.local.", "redis.cluster.local.", "redis.",
    ]);
    expect(searchCandidates("redis.example.com.", k8s)).toEqual(["redis.example.com."]);
    expect(searchCandidates("a.b.c.d.e.f", k8s)[0]).toBe("a.b.c.d.e.f.");
  });
});

test("every tools route is in the OpenAPI document with a tag and summary", async () => {
  const res = await call(app, "GET", "/openapi/json");
  const paths = res.json.paths as Record<string, Record<string, { tags?: string[]; summary?: string }>>;
  const expected: Array<[string, string]> = [
    ["/env", "get"], ["/headers", "get"], ["/echo", "post"], ["/delay/{seconds}", "get"], ["/status/{code}", "get"],
    ["/status/{code}", "post"], ["/dns", "get"], ["/chunked/{seconds}", "get"], ["/ws/echo", "get"],
  ];
  for (const [path, method] of expected) {
    const op = paths[path]?.[method];
    expect(op, `${method} ${path}`).toBeDefined();
    expect(op!.tags).toEqual(["tools"]);
    expect(op!.summary!.length).toBeGreaterThan(10);
  }
});
