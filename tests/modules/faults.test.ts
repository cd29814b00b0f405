// Fault injection: errors and latency on application routes only, controls, env at start, metrics, cost when off.
import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { ConfigError, parseCli } from "../../src/config";
import { faultsModule, FaultInjector, isFaultExempt, pathOf } from "../../src/modules/faults";
import { Metrics } from "../../src/metrics";
import { call, configFrom, testApp, testDeps } from "../helpers/app";

const EXEMPT = ["/health", "/ready", "/metrics", "/faults", "/openapi/json", "/ui"];

describe("controls", () => {
  test("off by default; GET /faults reports the settings", async () => {
    const { app } = testApp();
    const res = await call(app, "GET", "/faults");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ enabled: false, error_rate: 0, status: 503, injected: { error: 0, latency: 0 } });
    expect((await call(app, "GET", "/version")).status).toBe(200);
  });

  test("error_rate 1: application routes fail with the chosen status, probes and controls stay healthy", async () => {
    const { app, deps } = testApp();
    const on = await call(app, "POST", "/faults/enable", { json: { error_rate: 1, status: 502 } });
    expect(on.status).toBe(200);
    expect(on.json).toMatchObject({ enabled: true, error_rate: 1, status: 502 });
    for (const path of ["/", "/version", "/info", "/kv", "/visits", "/no-such-route", "/env"]) {
      const res = await call(app, "GET", path);
      expect(res.status).toBe(502);
      expect(res.json.error).toBe("injected fault");
      expect(res.headers.get("x-fault-injected")).toBe("error");
    }
    for (const path of EXEMPT) {
      const res = await call(app, "GET", path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("x-fault-injected")).toBeNull();
    }
    expect((await call(app, "POST", "/ready/disable")).status).toBe(200);
    expect((await call(app, "POST", "/ready/enable")).status).toBe(200);
    // Nothing was counted by /visits: the fault answered before the handler ran.
    expect(await deps.store.incrementVisits()).toBe(1);
    const state = await call(app, "GET", "/faults");
    expect(state.json.injected.error).toBe(7);
    const metrics = await call(app, "GET", "/metrics");
    expect(metrics.text).toContain('bun_k8s_faults_injected_total{kind="error"} 7');
    expect(metrics.text).toContain("bun_k8s_faults_active 1");

    const off = await call(app, "POST", "/faults/disable");
    expect(off.json.enabled).toBe(false);
    expect((await call(app, "GET", "/version")).status).toBe(200);
    expect((await call(app, "GET", "/metrics")).text).toContain("bun_k8s_faults_active 0");
  });

  test("error_rate 0.5 fails about half the requests", async () => {
    const { app } = testApp();
    await call(app, "POST", "/faults/enable", { json: { error_rate: 0.5 } });
    let failed = 0;
    const n = 400;
    for (let i = 0; i < n; i++) if ((await call(app, "GET", "/version")).status === 503) failed++;
    // Binomial(400, 0.5): mean 200, sd 10; 150..250 is five sigma.
    expect(failed).toBeGreaterThan(150);
    expect(failed).toBeLessThan(250);
  });

  test("latency: application routes wait, probes do not, the real response still comes", async () => {
    const { app } = testApp();
    const on = await call(app, "POST", "/faults/enable", { json: { latency_min_ms: 200, latency_max_ms: 250 } });
    expect(on.json).toMatchObject({ enabled: true, error_rate: 0, latency_min_ms: 200, latency_max_ms: 250 });
    let t0 = performance.now();
    const slow = await call(app, "GET", "/version");
    const slowMs = performance.now() - t0;
    expect(slow.status).toBe(200);
    expect(slow.json.version).toBeString();
    const delay = Number(slow.headers.get("x-fault-delay-ms"));
    expect(delay).toBeGreaterThanOrEqual(200);
    expect(delay).toBeLessThanOrEqual(250);
    expect(slowMs).toBeGreaterThanOrEqual(195);
    // Bodies survive the delay.
    const kv = await call(app, "POST", "/kv/k", { json: { value: "v" } });
    expect(kv.status).toBe(200);
    expect(kv.json.value).toBe("v");
    t0 = performance.now();
    expect((await call(app, "GET", "/health")).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(100);
    expect((await call(app, "GET", "/faults")).json.injected.latency).toBe(2);
  });

  test("latency plus errors: the error comes after the delay", async () => {
    const { app } = testApp();
    await call(app, "POST", "/faults/enable", { json: { error_rate: 1, status: 500, latency_min_ms: 100 } });
    const t0 = performance.now();
    const res = await call(app, "GET", "/version");
    expect(res.status).toBe(500);
    expect(res.json.error).toBe("injected fault");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(95);
  });

  test("bad bodies are 422; chaos disabled is 403 but disable still works", async () => {
    const { app } = testApp();
    const bad = [
      { error_rate: 1.5 }, { error_rate: -0.1 }, { status: 200 }, { status: 600 }, { status: 503.5 },
      { latency_max_ms: -1 }, { latency_max_ms: 60001 }, { latency_min_ms: 500, latency_max_ms: 100 },
      { error_rate: "half" }, { surprise: 1 }, {},
    ];
    for (const json of bad) {
      const res = await call(app, "POST", "/faults/enable", { json });
      expect(res.status, JSON.stringify(json)).toBe(422);
    }
    // Malformed JSON is a parse error, as on every other route (the body is read with a deadline).
    expect((await call(app, "POST", "/faults/enable", { body: "not json", headers: { "content-type": "application/json" } })).status).toBe(400);
    expect((await call(app, "GET", "/faults")).json.enabled).toBe(false);

    const { app: locked } = testApp({ env: { CHAOS_ENABLED: "false" } });
    expect((await call(locked, "POST", "/faults/enable", { json: { error_rate: 1 } })).status).toBe(403);
    expect((await call(locked, "POST", "/faults/disable")).status).toBe(200);
  });
});

describe("every injected fault is a counted response", () => {
  const seriesOf = (text: string, route: string, status: number) => {
    const labels = `method="GET",route="${route}",status="${status}"`;
    const value = (name: string) => Number(new RegExp(`^${name}\\{${labels.replace(/[/]/g, "\\/")}\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
    return {
      count: value("http_requests_total"),
      sum: value("http_request_duration_seconds_sum"),
      fast: Number(new RegExp(`^http_request_duration_seconds_bucket\\{le="0.1",${labels.replace(/[/]/g, "\\/")}\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0),
    };
  };

  test("injected errors are in http_requests_total with their route and status", async () => {
    const { app } = testApp();
    await call(app, "POST", "/faults/enable", { json: { error_rate: 1, status: 500 } });
    for (let i = 0; i < 5; i++) expect((await call(app, "GET", "/")).status).toBe(500);
    for (let i = 0; i < 3; i++) expect((await call(app, "GET", "/kv/some-key")).status).toBe(500);
    await call(app, "POST", "/faults/disable");
    const text = (await call(app, "GET", "/metrics")).text;
    expect(seriesOf(text, "/", 500).count).toBe(5);
    expect(seriesOf(text, "/kv/:key", 500).count).toBe(3);
    expect(seriesOf(text, "/", 200).count).toBe(0);
    expect(text).toContain('bun_k8s_faults_injected_total{kind="error"} 8');
  });

  test("injected latency is in http_request_duration_seconds, timed from arrival, once per request", async () => {
    const { app } = testApp();
    await call(app, "POST", "/faults/enable", { json: { latency_min_ms: 150, latency_max_ms: 150 } });
    const ok = await call(app, "GET", "/version");
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-fault-delay-ms")).toBe("150");
    expect(ok.headers.get("x-content-type-options")).toBe("nosniff");
    await call(app, "POST", "/faults/enable", { json: { error_rate: 1, status: 504, latency_min_ms: 150, latency_max_ms: 150 } });
    const failed = await call(app, "GET", "/version");
    expect(failed.status).toBe(504);
    expect(failed.json).toMatchObject({ error: "injected fault" });
    expect(failed.headers.get("x-fault-injected")).toBe("error");
    await call(app, "POST", "/faults/disable");
    const text = (await call(app, "GET", "/metrics")).text;
    for (const status of [200, 504]) {
      const series = seriesOf(text, "/version", status);
      expect({ status, count: series.count, fast: series.fast }).toEqual({ status, count: 1, fast: 0 });
      expect(series.sum).toBeGreaterThanOrEqual(0.145);
    }
  });
});

describe("settable from env at start", () => {
  test("FAULT_* turn faults on at start; a body-less enable uses them", async () => {
    const { app } = testApp({ env: { FAULT_ERROR_RATE: "1", FAULT_STATUS: "504" } });
    expect((await call(app, "GET", "/faults")).json).toMatchObject({ enabled: true, error_rate: 1, status: 504 });
    expect((await call(app, "GET", "/version")).status).toBe(504);
    expect((await call(app, "GET", "/ready")).status).toBe(200);
    await call(app, "POST", "/faults/disable");
    expect((await call(app, "GET", "/version")).status).toBe(200);
    const again = await call(app, "POST", "/faults/enable");
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ enabled: true, error_rate: 1, status: 504 });
  });

  test("invalid FAULT_* values fail at start with the variable's name", () => {
    expect(() => configFrom({ FAULT_ERROR_RATE: "2" })).toThrow(/FAULT_ERROR_RATE/);
    expect(() => configFrom({ FAULT_ERROR_RATE: "lots" })).toThrow(ConfigError);
    expect(() => configFrom({ FAULT_STATUS: "200" })).toThrow(/FAULT_STATUS/);
    expect(() => configFrom({ FAULT_LATENCY_MIN_MS: "300", FAULT_LATENCY_MAX_MS: "100" })).toThrow(/FAULT_LATENCY_MIN_MS/);
    expect(configFrom({ FAULT_ERROR_RATE: "0.05" }).faultErrorRate).toBe(0.05);
    expect(parseCli(["--fault-error-rate", ".25"], {}).config.faultErrorRate).toBe(0.25);
  });
});

describe("cost when off", () => {
  test("the hook is registered as synchronous and does not widen what every request parses", () => {
    const app = new Elysia().use(faultsModule(testDeps())).get("/plain", () => "ok");
    const hooks = (app as unknown as { event: { request: Array<{ isAsync?: boolean }> } }).event.request;
    expect(hooks.length).toBe(1);
    expect(hooks[0]!.isAsync).toBe(false);
    const inference = (app as unknown as { inference: Record<string, boolean> }).inference;
    for (const field of ["body", "cookie", "headers", "query", "server"]) expect(inference[field], field).toBe(false);
    // A synchronous route stays synchronous end to end: no Promise per request.
    const res = app.fetch(new Request("http://localhost/plain"));
    expect(res).toBeInstanceOf(Response);
  });

  test("in the full app, a sync route answers without a Promise while faults are off", async () => {
    const { app } = testApp();
    expect(app.fetch(new Request("http://localhost/env"))).toBeInstanceOf(Response);
    // latency_min_ms, not latency_max_ms alone: a 0..10 ms draw is 0 (no delay, no Promise) 1 time in 11.
    await call(app, "POST", "/faults/enable", { json: { latency_min_ms: 10 } });
    expect(app.fetch(new Request("http://localhost/env"))).toBeInstanceOf(Promise);
  });

  test("exempt paths and URL parsing", () => {
    expect(pathOf("http://localhost:8000/health/enable?x=1")).toBe("/health/enable");
    expect(pathOf("http://localhost")).toBe("/");
    for (const p of ["/health", "/health/disable", "/ready", "/metrics", "/faults/enable", "/openapi", "/openapi/json", "/ui/app.js"]) {
      expect(isFaultExempt(p), p).toBe(true);
    }
    for (const p of ["/", "/healthz", "/version", "/kv/health", "/uix", "/readyz"]) expect(isFaultExempt(p), p).toBe(false);
  });

  test("decisions follow the random source", () => {
    const draws = [0.1, 0.0, 0.9, 0.999];
    const injector = new FaultInjector({ errorRate: 0.5, status: 503, latencyMinMs: 10, latencyMaxMs: 20 }, new Metrics({ defaultMetrics: false }), () => draws.shift()!);
    expect(injector.active).toBe(true);
    expect(injector.decide()).toEqual({ fail: true, delayMs: 10 });
    expect(injector.decide()).toEqual({ fail: false, delayMs: 20 });
    expect(injector.injected).toEqual({ error: 1, latency: 2 });
  });
});
