// src/modules/auth: login, /me and logout on both stores; AUTH_USERS and SESSION_SECRET.
import { describe, expect, test } from "bun:test";
import { authenticate, parseUsers, verifyPassword } from "../../src/modules/auth/users";
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
