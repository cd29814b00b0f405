// src/modules/metrics: the Prometheus exposition of request, process and app metrics.
import { describe, expect, test } from "bun:test";
import { DEFAULTS_MAX_AGE_MS, HEAP_SPACE_METRICS, Metrics, sharedReading } from "../../src/metrics";
import { join } from "node:path";
import { ROOT } from "../../scripts/lib/repo";
import { BASE, call, testApp, testRedisStore } from "../helpers/app";

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
    const m = new Metrics();
    const text = await m.exposition();
    expect(text).toContain("process_resident_memory_bytes");
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_heap_size_used_bytes");
  });

  test("the process defaults are read again once they are DEFAULTS_MAX_AGE_MS old; the HTTP series on every scrape", async () => {
    let now = 0;
    const m = new Metrics({ now: () => now });
    const cpu = (text: string) => Number(/^process_cpu_user_seconds_total (\S+)$/m.exec(text)![1]);
    const burn = () => {
      const end = performance.now() + 50;
      while (performance.now() < end);
    };
    await m.exposition();
    await Bun.sleep(30); // past the event loop's first sample: a reading before it is not kept
    const first = await m.exposition();
    burn();
    m.recordRequest("GET", "/health", 200, 0.001);
    now = DEFAULTS_MAX_AGE_MS - 1;
    const cached = await m.exposition();
    expect(cpu(cached)).toBe(cpu(first));
    expect(cached).toContain('http_requests_total{method="GET",route="/health",status="200"} 1');
    now = DEFAULTS_MAX_AGE_MS + 1;
    expect(cpu(await m.exposition())).toBeGreaterThan(cpu(first));
  });

  test("concurrent scrapes share one PING of Redis; the next one after DEFAULTS_MAX_AGE_MS pings again", async () => {
    const store = await testRedisStore();
    let pings = 0;
    const ping = store.ping.bind(store);
    store.ping = () => (pings++, ping());
    const { app } = testApp({ store });
    const scrapes = await Promise.all(Array.from({ length: 20 }, () => call(app, "GET", "/metrics")));
    for (const s of scrapes) expect(s.text).toContain("bun_k8s_store_up 1");
    expect(pings).toBe(1);
    await Bun.sleep(DEFAULTS_MAX_AGE_MS + 20);
    await call(app, "GET", "/metrics");
    expect(pings).toBe(2);
    await store.close();
  });

  test("the heap space gauges are left out: Bun reports zeros for them, and reading them cost most of a scrape", async () => {
    const text = await new Metrics().exposition();
    for (const name of HEAP_SPACE_METRICS) expect(text).not.toContain(name);
    // The check can fail: prom-client's defaults do have them.
    const { Registry, collectDefaultMetrics } = await import("prom-client");
    const plain = new Registry();
    collectDefaultMetrics({ register: plain });
    for (const name of HEAP_SPACE_METRICS) expect(await plain.metrics()).toContain(name);
  });
});

describe("prom-client is loaded on the first scrape, not at start", () => {
  test("importing the app and building its metrics loads no prom-client module; the first scrape does", () => {
    const count = 'Object.keys(require.cache).filter((k) => k.includes("/prom-client/")).length';
    const script = `const { Metrics } = await import(${JSON.stringify(join(ROOT, "src/metrics.ts"))}); await import(${JSON.stringify(join(ROOT, "src/app.ts"))});
      const m = new Metrics(); const before = ${count}; await m.exposition(); console.log(before, ${count});`;
    const r = Bun.spawnSync([process.execPath, "-e", script], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    const [before, after] = r.stdout.toString().trim().split(" ").map(Number);
    expect(before).toBe(0);
    expect(after).toBeGreaterThan(0);
  });

  test("without default metrics prom-client is never needed", async () => {
    const m = new Metrics({ defaultMetrics: false });
    expect(m.defaults()).toBeUndefined();
    expect(await m.exposition()).not.toContain("process_");
  });
});

describe("/metrics stays small whatever /status/:code is asked for", () => {
  test("1,200 requests to /status/200..599 with three methods add at most 12 series", async () => {
    const { app } = testApp();
    const seriesCount = async () => (await call(app, "GET", "/metrics")).text.split("\n").filter((l) => l.startsWith("http_requests_total{")).length;
    await seriesCount();
    const before = await seriesCount();
    for (let code = 200; code < 600; code++) {
      for (const method of ["GET", "POST", "HEAD"]) await app.handle(new Request(`${BASE}/status/${code}`, { method }));
    }
    const text = (await call(app, "GET", "/metrics")).text;
    expect((await seriesCount()) - before).toBeLessThanOrEqual(12);
    expect(text).toContain('http_requests_total{method="GET",route="/status/:code",status="5xx"} 100');
    expect(text.length).toBeLessThan(200_000);
  });
});

describe("sharedReading", () => {
  test("calls within DEFAULTS_MAX_AGE_MS share one reading, concurrent ones included; then it reads again", async () => {
    let now = 0;
    let reads = 0;
    const get = sharedReading(async () => ({ value: ++reads }), () => now);
    expect(await Promise.all([get(), get(), get()])).toEqual([1, 1, 1]);
    now = DEFAULTS_MAX_AGE_MS - 1;
    expect(await get()).toBe(1);
    now = DEFAULTS_MAX_AGE_MS;
    expect(await get()).toBe(2);
  });
  test("a failed reading, or one with keep false, is not shared with later calls", async () => {
    const answers: Array<() => { value: string; keep?: boolean }> = [
      () => {
        throw new Error("down");
      },
      () => ({ value: "early", keep: false }),
      () => ({ value: "kept" }),
    ];
    const get = sharedReading(async () => answers.shift()!(), () => 0);
    await expect(get()).rejects.toThrow("down");
    expect(await get()).toBe("early");
    expect(await get()).toBe("kept");
    expect(await get()).toBe("kept");
  });
});
