// src/event-loop-lag.ts: prom-client's event-loop lag gauges, with the statistics memoised.
import { describe, expect, test } from "bun:test";
import { Gauge, Registry } from "prom-client";
import { EVENT_LOOP_LAG_METRICS, registerEventLoopLag, STATS_MAX_AGE_MS } from "../src/event-loop-lag";
import { Metrics } from "../src/metrics";

const sample = (text: string, name: string) => {
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  if (!m) throw new Error(`${name} is not in the exposition`);
  return Number(m[1]);
};
const block = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe("event-loop lag gauges", () => {
  test("the scrape has every one of prom-client's names, each once, with a value", async () => {
    const metrics = new Metrics();
    await metrics.exposition();
    await Bun.sleep(50); // the histogram samples every 10 ms; before its first sample, mean is NaN as in prom-client
    const text = await metrics.exposition();
    for (const name of EVENT_LOOP_LAG_METRICS) {
      expect(text.match(new RegExp(`^# TYPE ${name} gauge$`, "gm"))?.length, name).toBe(1);
      expect(Number.isFinite(sample(text, name)), name).toBe(true);
    }
  });

  test("a blocked event loop shows in max and p99; the statistics stay for a second, then start again", async () => {
    let now = 0;
    const registry = new Registry();
    registerEventLoopLag(registry, Gauge, () => now);
    await Bun.sleep(30);
    block(200);
    await Bun.sleep(30);
    const first = await registry.metrics();
    expect(sample(first, "nodejs_eventloop_lag_max_seconds")).toBeGreaterThan(0.15);
    expect(sample(first, "nodejs_eventloop_lag_p99_seconds")).toBeGreaterThan(0.15);

    await Bun.sleep(50);
    now = STATS_MAX_AGE_MS - 1;
    expect(sample(await registry.metrics(), "nodejs_eventloop_lag_max_seconds")).toBe(sample(first, "nodejs_eventloop_lag_max_seconds"));

    // The histogram was reset at the first computation: the quiet time since has no 200 ms delay.
    now = STATS_MAX_AGE_MS;
    expect(sample(await registry.metrics(), "nodejs_eventloop_lag_max_seconds")).toBeLessThan(0.15);
  });

  test("nodejs_eventloop_lag_seconds is the wait of a setImmediate queued at the previous scrape", async () => {
    const registry = new Registry();
    registerEventLoopLag(registry, Gauge);
    await registry.metrics();
    block(20);
    await Bun.sleep(5);
    const lag = sample(await registry.metrics(), "nodejs_eventloop_lag_seconds");
    expect(lag).toBeGreaterThan(0.015);
    expect(lag).toBeLessThan(1);
  });
});
