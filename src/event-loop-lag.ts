// prom-client's nodejs_eventloop_lag_* gauges, same names and meaning, at a fraction of the cost.
// Bun computes a delay histogram's mean and stddev by walking every bucket: reading the seven
// statistics took 175 us of CPU, more than half of a whole scrape (docs/reference/metrics.md).
// Here they are computed at most once per STATS_MAX_AGE_MS and the histogram is reset then, so
// they describe the event loop since the previous computation: for a Prometheus scraping every
// 15 s exactly what prom-client reports (since the last scrape); under a storm of scrapes, the
// last second or so.
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Gauge, Registry } from "prom-client";

export const STATS_MAX_AGE_MS = 1000;
/** The histogram's sampling interval, as prom-client's default. */
const RESOLUTION_MS = 10;

const STATS = {
  min: ["nodejs_eventloop_lag_min_seconds", "The minimum recorded event loop delay."],
  max: ["nodejs_eventloop_lag_max_seconds", "The maximum recorded event loop delay."],
  mean: ["nodejs_eventloop_lag_mean_seconds", "The mean of the recorded event loop delays."],
  stddev: ["nodejs_eventloop_lag_stddev_seconds", "The standard deviation of the recorded event loop delays."],
  p50: ["nodejs_eventloop_lag_p50_seconds", "The 50th percentile of the recorded event loop delays."],
  p90: ["nodejs_eventloop_lag_p90_seconds", "The 90th percentile of the recorded event loop delays."],
  p99: ["nodejs_eventloop_lag_p99_seconds", "The 99th percentile of the recorded event loop delays."],
} as const;
type Stat = keyof typeof STATS;

export const LAG = "nodejs_eventloop_lag_seconds";
/** Every gauge this file owns: prom-client's own versions are removed before these are added. */
export const EVENT_LOOP_LAG_METRICS = [LAG, ...Object.values(STATS).map(([name]) => name)];

/**
 * Replaces prom-client's event-loop lag collector in `registry` with the cheaper one here.
 * `sampled()` is false until the histogram's first sample: a scrape before it has NaN for mean and stddev.
 */
export function registerEventLoopLag(registry: Registry, GaugeClass: typeof Gauge, now: () => number = () => performance.now()): { sampled: () => boolean } {
  for (const name of EVENT_LOOP_LAG_METRICS) registry.removeSingleMetric(name);
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  let computedAt = -Infinity;
  let stats: Record<Stat, number> | undefined;
  const read = (full: boolean): Record<Stat, number> => ({
    min: histogram.min / 1e9,
    max: histogram.max / 1e9,
    mean: full ? histogram.mean / 1e9 : NaN,
    stddev: full ? histogram.stddev / 1e9 : NaN,
    p50: histogram.percentile(50) / 1e9,
    p90: histogram.percentile(90) / 1e9,
    p99: histogram.percentile(99) / 1e9,
  });
  const current = () => {
    const t = now();
    if (stats && t - computedAt < STATS_MAX_AGE_MS) return stats;
    // Before the histogram's first sample there is nothing to keep for a second: mean and stddev
    // are NaN, as prom-client reports them then (and not worked out), and the next scrape looks again.
    if (histogram.count === 0) return read(false);
    stats = read(true);
    histogram.reset();
    computedAt = t;
    return stats;
  };

  // The seven gauges of one scrape are collected in one synchronous run: they share one reading,
  // so a scrape that falls on the one-second boundary cannot mix two windows.
  let reading: Record<Stat, number> | undefined;
  const scrape = () => {
    if (!reading) {
      reading = current();
      queueMicrotask(() => (reading = undefined));
    }
    return reading;
  };

  // As prom-client does: the time a setImmediate queued at the scrape waits, reported at the next one.
  const lag: Gauge = new GaugeClass({
    name: LAG,
    help: "Lag of event loop in seconds.",
    registers: [registry],
    collect() {
      const start = process.hrtime.bigint();
      setImmediate(() => lag.set(Number(process.hrtime.bigint() - start) / 1e9));
    },
  });
  for (const [stat, [name, help]] of Object.entries(STATS) as Array<[Stat, readonly [string, string]]>) {
    new GaugeClass({
      name,
      help,
      registers: [registry],
      collect(this: Gauge) {
        this.set(scrape()[stat]);
      },
    });
  }
  return { sampled: () => stats !== undefined || histogram.count > 0 };
}
