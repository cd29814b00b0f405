// src/modules/auth: login, /me and logout on both stores; AUTH_USERS and SESSION_SECRET.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { ConcurrencyGate, RateLimiter } from "../../src/modules/auth/limits";
import { authenticate, dummyPasswordFor, hashParameters, parseUsers, verifyPassword } from "../../src/modules/auth/users";
import { call, describeEachStore, testApp } from "../helpers/app";

describeEachStore("sessions", (makeStore, kind) => {
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

  // Expiry itself is the store's (tests/store/contract.test.ts); the module passes SESSION_TTL on.
  test("sessions last SESSION_TTL; a session gone from the store is 401 session expired", async () => {
    const store = await makeStore();
    const { app } = testApp({ store, env: { SESSION_TTL: "120" } });
    const login = await call(app, "POST", "/login", { json: { username: "user", password: "user" } });
    expect(login.json.expires_in).toBe(120);
    expect(login.headers.get("set-cookie")).toContain("Max-Age=120");
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    expect((await call(app, "GET", "/me", { headers: { cookie } })).status).toBe(200);
    await store.sessionDelete(cookie.slice(cookie.indexOf("=") + 1));
    expect(await call(app, "GET", "/me", { headers: { cookie } })).toMatchObject({
      status: 401,
      json: { error: "session expired", detail: "session expired" },
    });
  });

  // The embedded store is per process by design: sharing is a property of Redis only.
  test.skipIf(kind === "memory")("a session made on one replica is seen by another", async () => {
    const store = await makeStore();
    const a = testApp({ store }).app;
    const b = testApp({ store }).app;
    const cookie = (await call(a, "POST", "/login", { json: { username: "admin", password: "admin" } })).headers.get("set-cookie")!.split(";")[0]!;
    expect((await call(b, "GET", "/me", { headers: { cookie } })).json.username).toBe("admin");
  });

});

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

describe("AUTH_USERS", () => {
  test("comma and newline separated pairs", () => {
    expect([...parseUsers("alice:wonder, bob:builder").keys()]).toEqual(["alice", "bob"]);
    const users = parseUsers("alice:wonder\r\nbob:builder\ncarol:c:o:l:o:n");
    expect([...users.keys()]).toEqual(["alice", "bob", "carol"]);
    expect(users.get("carol")).toBe("c:o:l:o:n");
  });

  test("argon2 hashes with commas survive; hashes verify", async () => {
    const hash = await Bun.password.hash("s3cret", { algorithm: "argon2id", memoryCost: 1024, timeCost: 1 });
    expect(hash).toContain(",");
    const users = parseUsers(`admin:${hash},user:plain`);
    expect(users.get("admin")).toBe(hash);
    expect(await authenticate(users, "admin", "s3cret")).toBe(true);
    expect(await authenticate(users, "admin", "wrong")).toBe(false);
    expect(await authenticate(users, "user", "plain")).toBe(true);
    expect(await authenticate(users, "nobody", "plain")).toBe(false);
  });

  test("bcrypt hashes and JSON objects", async () => {
    const hash = await Bun.password.hash("pw", { algorithm: "bcrypt", cost: 4 });
    const users = parseUsers(JSON.stringify({ eve: hash }));
    expect(await verifyPassword(users.get("eve")!, "pw")).toBe(true);
  });

  test.each([
    ["admin:Sec,ret", "no ':'"],
    [" admin :pw", "user name"],
    ["admin: pw", "whitespace"],
    ["admin:pw,admin:other", "twice"],
    ["admin:ab,t=3", "no ':'"],
    ['{"admin ": "pw"}', "user name"],
    ["ad min:pw", "user name"],
  ])("ambiguous AUTH_USERS %p is refused (%p)", (spec, reason) => {
    expect(() => parseUsers(spec)).toThrow("AUTH_USERS");
    expect(() => parseUsers(spec)).toThrow(reason);
    expect(() => parseUsers(spec)).not.toThrow(/Sec|ret|ab|t=3/);
  });

  test("on one line a comma always separates entries; with one user per line a comma belongs to the password", () => {
    expect([...parseUsers("admin:Secret,key:value").entries()]).toEqual([["admin", "Secret"], ["key", "value"]]);
    expect([...parseUsers("admin:Sec,ret\nuser:x,y\n").entries()]).toEqual([["admin", "Sec,ret"], ["user", "x,y"]]);
  });

  test("malformed specs fail clearly", () => {
    expect(() => parseUsers("nocolon")).toThrow("AUTH_USERS");
    expect(() => parseUsers("{bad json")).toThrow("AUTH_USERS");
    expect(() => parseUsers("  ")).toThrow("AUTH_USERS");
    expect(() => parseUsers('{"a": 1}')).toThrow("AUTH_USERS");
  });
});

setDefaultTimeout(30_000);
// Cheap argon2id parameters keep the suite fast; the mechanism is the same as the default 64 MiB.
const HASH_OPTIONS = { algorithm: "argon2id", memoryCost: 8192, timeCost: 3 } as const;

const login = (app: Parameters<typeof call>[0], username: string, password: string, headers: Record<string, string> = {}) =>
  call(app, "POST", "/login", { json: { username, password }, headers });

async function median(times: number, run: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return samples.sort((a, b) => a - b)[Math.floor(times / 2)]!;
}

describe("login with hashed AUTH_USERS", () => {
  test("an unknown user is checked against a dummy hash of the same algorithm and cost", async () => {
    const hash = await Bun.password.hash("s3cret", HASH_OPTIONS);
    const dummy = await dummyPasswordFor(parseUsers(`admin:${hash},plain:text`));
    expect(hashParameters(dummy)).toEqual(hashParameters(hash));
    expect(hashParameters(hash)).toEqual({ algorithm: "argon2id", memoryCost: 8192, timeCost: 3 });
    const bcrypt = await Bun.password.hash("pw", { algorithm: "bcrypt", cost: 5 });
    expect(hashParameters(await dummyPasswordFor(parseUsers(`eve:${bcrypt}`)))).toEqual({ algorithm: "bcrypt", cost: 5 });
  });

  test("a wrong name takes about as long as a wrong password", async () => {
    const hash = await Bun.password.hash("s3cret", HASH_OPTIONS);
    const { app } = testApp({ env: { AUTH_USERS: `admin:${hash}`, LOGIN_RATE_LIMIT: "1000" } });
    await login(app, "warm-up", "x");
    // Interleaved, so a burst of load on the shared machine hits both series alike. Without the
    // dummy hash an unknown name answered in well under 1% of the time of a known one.
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 7; i++) {
      known.push(await median(1, () => login(app, "admin", "wrong")));
      unknown.push(await median(1, () => login(app, "nobody", "wrong")));
    }
    const mid = (xs: number[]) => xs.sort((a, b) => a - b)[3]!;
    expect(mid(unknown)).toBeGreaterThan(mid(known) * 0.25);
  });

  test("parallel logins verify one at a time (LOGIN_MAX_CONCURRENT_VERIFIES=1); past the queue, 429", async () => {
    const hash = await Bun.password.hash("s3cret", HASH_OPTIONS);
    const { app } = testApp({ env: { AUTH_USERS: `admin:${hash}`, LOGIN_RATE_LIMIT: "1000" } });
    const statuses = await Promise.all(Array.from({ length: 24 }, () => login(app, "admin", "wrong").then((r) => r.status)));
    // One running and 16 queued get their 401; the other 7 are told to come back.
    expect(statuses.filter((s) => s === 401)).toHaveLength(17);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    expect((await login(app, "admin", "s3cret")).status).toBe(200);
  });
});

describe("login rate limit", () => {
  test("past LOGIN_RATE_LIMIT attempts a minute: 429 JSON with Retry-After, right password or not", async () => {
    const { app } = testApp({ env: { LOGIN_RATE_LIMIT: "3" } });
    for (let i = 0; i < 3; i++) expect((await login(app, "admin", "wrong")).status).toBe(401);
    const limited = await login(app, "admin", "admin");
    expect(limited.status).toBe(429);
    expect(limited.json).toMatchObject({ error: "too many login attempts", hint: expect.stringContaining("retry in") });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Malformed bodies are refused by validation before they cost an attempt.
    expect((await call(app, "POST", "/login", { json: { username: "admin" } })).status).toBe(422);
  });

  test("RateLimiter refills over the minute and forgets the least recently seen client past its bound", () => {
    let now = 0;
    const limiter = new RateLimiter(2, { now: () => now, maxClients: 2 });
    expect([limiter.take("a"), limiter.take("a")]).toEqual([0, 0]);
    expect(limiter.take("a")).toBe(30);
    now += 30_000;
    expect(limiter.take("a")).toBe(0);
    expect(limiter.take("a")).toBeGreaterThan(0);
    limiter.take("b");
    limiter.take("c"); // evicts a
    expect(limiter.take("a")).toBe(0);
  });

  test("ConcurrencyGate never runs more than its limit", async () => {
    const gate = new ConcurrencyGate(2, 10);
    let running = 0;
    let most = 0;
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        gate.run(async () => {
          most = Math.max(most, ++running);
          await Bun.sleep(5);
          running--;
          return i;
        }),
      ),
    );
    expect(most).toBe(2);
    expect(results.filter((r) => r === null)).toHaveLength(0);
    expect(gate.running).toBe(0);
  });
});

describe("session rotation", () => {
  test("a second login ends the session the client came with", async () => {
    for (const env of [{}, { SESSION_SECRET: "x".repeat(32) }] as Array<Record<string, string>>) {
      const { app } = testApp({ env });
      const first = (await login(app, "admin", "admin")).headers.get("set-cookie")!.split(";")[0]!;
      expect((await call(app, "GET", "/me", { headers: { cookie: first } })).status).toBe(200);
      const second = (await login(app, "user", "user", { cookie: first })).headers.get("set-cookie")!.split(";")[0]!;
      expect(second).not.toBe(first);
      expect(await call(app, "GET", "/me", { headers: { cookie: first } })).toMatchObject({ status: 401, json: { detail: "session expired" } });
      expect((await call(app, "GET", "/me", { headers: { cookie: second } })).json.username).toBe("user");
    }
  });
});
