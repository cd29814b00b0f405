// Cross-origin protection through app.handle(): what the audit's attacker page sent is refused,
// while curl, scripts and the dashboard (same origin) keep working.
import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/config";
import { call, configFrom, testApp } from "../helpers/app";

const EVIL = { origin: "http://evil.example", "sec-fetch-site": "cross-site" };
const FORM = { "content-type": "application/x-www-form-urlencoded" };

function app() {
  let exited: number | null = null;
  const built = testApp({ exit: (code) => void (exited = code) });
  return { ...built, exited: () => exited };
}

describe("cross-site requests that change state are refused with 403 JSON", () => {
  test("the audit's attacks: forms to /ready/disable, /kv, /faults/enable, /crash; no-cors POST /health/disable; <img> /stress/memory", async () => {
    const { app: a, exited } = app();
    const attacks: Array<[string, string, Record<string, string>, string?]> = [
      ["POST", "/ready/disable", { ...EVIL, ...FORM }, ""],
      ["POST", "/kv/pwned", { ...EVIL, ...FORM }, "value=owned"],
      ["POST", "/faults/enable", { ...EVIL, ...FORM }, "error_rate=1"],
      ["POST", "/crash", { ...EVIL, ...FORM }, ""],
      ["POST", "/health/disable", { ...EVIL, "content-type": "text/plain" }, "x"],
      // An <img> sends no Origin on a GET, but every current browser sends Sec-Fetch-Site.
      ["GET", "/stress/memory?mb=5", { "sec-fetch-site": "cross-site", "sec-fetch-dest": "image" }],
      ["GET", "/stress?seconds=1", { "sec-fetch-site": "cross-site" }],
    ];
    for (const [method, path, headers, body] of attacks) {
      const res = await call(a, method, path, { headers, body });
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(res.json).toMatchObject({ error: "cross-origin request refused", hint: expect.stringContaining("TRUSTED_ORIGINS") });
    }
    expect((await call(a, "GET", "/ready")).status).toBe(200);
    expect((await call(a, "GET", "/health")).status).toBe(200);
    expect((await call(a, "GET", "/kv/pwned")).status).toBe(404);
    expect((await call(a, "GET", "/faults")).json.enabled).toBe(false);
    expect((await call(a, "POST", "/stress/memory/release")).json.released_mb).toBe(0);
    expect(exited()).toBeNull();
  });

  test("same-site counts as another site; an old browser's foreign Origin is refused too", async () => {
    const { app: a } = app();
    expect((await call(a, "POST", "/ready/disable", { headers: { "sec-fetch-site": "same-site" } })).status).toBe(403);
    expect((await call(a, "POST", "/ready/disable", { headers: { origin: "http://evil.example" } })).status).toBe(403);
    expect((await call(a, "POST", "/ready/disable", { headers: { origin: "null" } })).status).toBe(403);
    expect((await call(a, "GET", "/ready")).status).toBe(200);
  });
});

describe("what keeps working", () => {
  test("curl and scripts, which send neither header: POST /ready/disable and GET /stress?seconds=N", async () => {
    const { app: a } = app();
    expect((await call(a, "POST", "/ready/disable")).status).toBe(200);
    expect((await call(a, "POST", "/ready/enable")).status).toBe(200);
    const stress = await call(a, "GET", "/stress?seconds=0");
    expect(stress.status).toBe(200);
    expect(stress.json.stressed_seconds).toBe(0);
  });

  test("the dashboard (same origin, or an Origin naming this host) and typed URLs (none)", async () => {
    const { app: a } = app();
    const sameOrigin = { origin: "http://localhost", "sec-fetch-site": "same-origin" };
    expect((await call(a, "POST", "/kv/ok", { json: { value: "1" }, headers: sameOrigin })).status).toBe(200);
    expect((await call(a, "POST", "/ready/disable", { headers: { origin: "http://localhost" } })).status).toBe(200);
    expect((await call(a, "GET", "/stress/memory?mb=1", { headers: { "sec-fetch-site": "none" } })).status).toBe(200);
  });

  test("reads stay open to every site: GET, HEAD and OPTIONS change nothing", async () => {
    const { app: a } = app();
    for (const path of ["/health", "/kv", "/metrics", "/config"]) {
      expect((await call(a, "GET", path, { headers: EVIL })).status).toBe(200);
    }
  });

  test("TRUSTED_ORIGINS lets a named origin in, and only it; a malformed one fails at start", async () => {
    const { app: a } = testApp({ env: { TRUSTED_ORIGINS: "https://dash.example, http://localhost:5173" } });
    expect((await call(a, "POST", "/ready/disable", { headers: { origin: "https://dash.example", "sec-fetch-site": "cross-site" } })).status).toBe(200);
    expect((await call(a, "POST", "/ready/disable", { headers: { origin: "https://other.example", "sec-fetch-site": "cross-site" } })).status).toBe(403);
    for (const bad of ["dash.example", "https://dash.example/path", "*"]) {
      expect(() => configFrom({ TRUSTED_ORIGINS: bad })).toThrow(ConfigError);
      expect(() => configFrom({ TRUSTED_ORIGINS: bad })).toThrow("TRUSTED_ORIGINS");
    }
  });
});
