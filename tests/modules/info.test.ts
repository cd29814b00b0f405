// src/modules/info: greeting, /config, /version, /info, and the OpenAPI document.
import { describe, expect, test } from "bun:test";
import { CONFIG_VARS } from "../../src/config";
import { MemoryStore } from "../../src/store/memory";
import { call, testApp } from "../helpers/app";

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

  test("GET /config shows exactly the CONFIG_VARS entries not marked secret, plus derived values", async () => {
    const { app } = testApp({ env: { SESSION_SECRET: "s", AUTH_USERS: "a:b", REDIS_PASSWORD: "p" } });
    const shown = (await call(app, "GET", "/config")).json as Record<string, unknown>;
    const names = (secret: boolean) => CONFIG_VARS.filter((v) => Boolean(v.secret) === secret).map((v) => v.env.toLowerCase());
    for (const name of names(false)) expect(Object.keys(shown)).toContain(name);
    for (const name of names(true)) expect(Object.keys(shown)).not.toContain(name);
    const derived = Object.keys(shown).filter((k) => !names(false).includes(k)).sort();
    expect(derived).toEqual(["session_cookie_signed", "version"]);
    expect(shown.store).toBe("memory"); // STORE=auto resolved
    expect(shown.max_body_bytes).toBe(1048576);
  });

  test("GET /config with REDIS_HOST", async () => {
    const { app } = testApp({ env: { REDIS_HOST: "redis", REDIS_PORT: "6379" } });
    expect((await call(app, "GET", "/config")).json).toMatchObject({ redis_host: "redis", redis_port: 6379 });
  });

  test("GET /version reports the package version", async () => {
    const { app } = testApp();
    const pkg = await Bun.file(new URL("../../package.json", import.meta.url)).json();
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
