// src/heartbeat.ts: what each pod writes to /replicas, and the CPU, RSS and latency it carries.
import { afterEach, describe, expect, test } from "bun:test";
import { processSampler, startHeartbeat, type ProcessProbe } from "../src/heartbeat";
import { HttpMetrics } from "../src/http/request-metrics";
import { call, describeEachStore, testApp } from "./helpers/app";

/** A probe whose clock and counters the test moves by hand. */
function fakeProbe() {
  const state = { user: 0, system: 0, nowMs: 0, rss: 40 << 20 };
  const probe: ProcessProbe = { cpuUsage: () => ({ user: state.user, system: state.system }), rss: () => state.rss, nowMs: () => state.nowMs };
  return { state, probe };
}

describe("processSampler", () => {
  test("CPU is the share of one core since the previous sample; the first covers the time since start", () => {
    const { state, probe } = fakeProbe();
    const sample = processSampler(new HttpMetrics(), probe);
    state.nowMs = 2000;
    state.user = 300_000;
    state.system = 100_000; // 0.4 s of CPU in 2 s since the process started
    expect(sample().cpu).toBe(20);
    state.nowMs = 3000;
    state.user += 1_500_000; // a worker thread and the main thread both busy: more than one core
    expect(sample().cpu).toBe(150);
    state.nowMs = 8000; // idle for 5 s
    expect(sample().cpu).toBe(0);
    state.rss = 123 << 20;
    expect(sample().rss).toBe(123 << 20);
  });

  test("p50 and p99 cover the requests answered since the previous sample, null when there were none", () => {
    const { state, probe } = fakeProbe();
    const http = new HttpMetrics();
    const sample = processSampler(http, probe);
    for (let i = 0; i < 99; i++) http.record("GET", "/", 200, 0.0008); // (0.5 ms, 1 ms]
    http.record("GET", "/stress", 200, 4); // (2.5 s, 5 s]
    state.nowMs = 1000;
    const first = sample();
    expect(first.p50Ms).toBeGreaterThan(0.5);
    expect(first.p50Ms).toBeLessThanOrEqual(1);
    expect(first.p99Ms).toBeLessThanOrEqual(1);
    state.nowMs = 2000;
    expect(sample()).toMatchObject({ p50Ms: null, p99Ms: null }); // nothing answered in this interval
    http.record("GET", "/stress", 200, 4);
    state.nowMs = 3000;
    const slow = sample(); // only the new request counts, not the 99 fast ones before it
    expect(slow.p50Ms).toBeGreaterThan(2500);
    expect(slow.p99Ms).toBeGreaterThan(2500);
  });
});

describeEachStore("startHeartbeat", (makeStore) => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  test("each beat carries CPU, RSS, latency and the request count to GET /replicas", async () => {
    const store = await makeStore();
    const { app, deps } = testApp({ store, env: { HEARTBEAT_INTERVAL_SECONDS: "1" } });
    for (let i = 0; i < 5; i++) expect((await call(app, "GET", "/health")).status).toBe(200);
    stop = startHeartbeat(deps).stop;
    const deadline = Date.now() + 5000;
    let replicas: any[] = [];
    while (Date.now() < deadline && replicas.length === 0) {
      replicas = (await call(app, "GET", "/replicas")).json.replicas;
      if (replicas.length === 0) await Bun.sleep(20);
    }
    expect(replicas).toHaveLength(1);
    const [first] = replicas;
    expect(first).toMatchObject({ id: deps.replicaId, hostname: deps.hostname });
    expect(first.requests).toBeGreaterThanOrEqual(5);
    expect(first.cpu).toBeGreaterThanOrEqual(0);
    expect(first.rss).toBeGreaterThan(1 << 20);
    expect(first.rss).toBeLessThan(process.memoryUsage.rss() * 2);
    expect(first.p50Ms).toBeGreaterThan(0); // the five /health calls before the first beat
    expect(first.p99Ms).toBeGreaterThanOrEqual(first.p50Ms);

    // The next beat, a second later, replaces the entry: a newer lastSeen and the new count.
    for (let i = 0; i < 3; i++) await call(app, "GET", "/health");
    let next = first;
    while (Date.now() < deadline + 3000 && next.lastSeen === first.lastSeen) {
      await Bun.sleep(100);
      [next] = (await call(app, "GET", "/replicas")).json.replicas;
    }
    expect(Date.parse(next.lastSeen)).toBeGreaterThan(Date.parse(first.lastSeen));
    expect(next.requests).toBeGreaterThan(first.requests);
    expect(typeof next.cpu).toBe("number");

    await stop();
    stop = undefined;
    expect((await call(app, "GET", "/replicas")).json.replicas).toEqual([]);
  }, 15_000);
});
