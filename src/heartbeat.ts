import type { AppDeps } from "./deps";
import { quantileFromBuckets, type HttpMetrics } from "./http/request-metrics";
import type { ReplicaInfo } from "./store/types";
import { VERSION } from "./version";

const RETRY_MS = 1000;

/** Where a sample reads the process from; tests pass fixed numbers. */
export interface ProcessProbe {
  /** Cumulative CPU since the process started, microseconds (process.cpuUsage()). */
  cpuUsage(): { user: number; system: number };
  rss(): number;
  /** Milliseconds since the process started (performance.now()). */
  nowMs(): number;
}

const PROCESS: ProcessProbe = {
  cpuUsage: () => process.cpuUsage(),
  rss: () => process.memoryUsage.rss(),
  nowMs: () => performance.now(),
};

export type ProcessSample = Pick<ReplicaInfo, "cpu" | "rss" | "p50Ms" | "p99Ms">;

const round1 = (value: number) => Math.round(value * 10) / 10;
const toMs = (seconds: number | null) => (seconds === null ? null : round1(seconds * 1000));

/**
 * CPU, RSS and latency quantiles over the time since the previous sample: the first sample covers
 * the time since the process started (CPU counters and the histogram both start at zero there).
 */
export function processSampler(http: HttpMetrics, probe: ProcessProbe = PROCESS): () => ProcessSample {
  let last: { cpuMicros: number; atMs: number; buckets: ArrayLike<number> } = { cpuMicros: 0, atMs: 0, buckets: [] };
  return () => {
    const usage = probe.cpuUsage();
    const cpuMicros = usage.user + usage.system;
    const atMs = probe.nowMs();
    const buckets = http.bucketTotals();
    const elapsedMicros = (atMs - last.atMs) * 1000;
    const cpu = elapsedMicros > 0 ? round1(((cpuMicros - last.cpuMicros) / elapsedMicros) * 100) : 0;
    const delta = buckets.map((count, i) => count - (last.buckets[i] ?? 0));
    last = { cpuMicros, atMs, buckets };
    return { cpu: Math.max(0, cpu), rss: probe.rss(), p50Ms: toMs(quantileFromBuckets(delta, 0.5)), p99Ms: toMs(quantileFromBuckets(delta, 0.99)) };
  };
}

/**
 * Refreshes this replica's entry in /replicas every interval; the entry expires after 3 intervals.
 * A failed beat (Redis not connected yet, or down) is retried after a second, so a new pod shows
 * up as soon as Redis answers rather than one full interval later. Each beat carries the process'
 * CPU, RSS and latency over the interval, which the dashboard's charts draw per pod.
 */
export function startHeartbeat(deps: AppDeps, sample: () => ProcessSample = processSampler(deps.metrics.http)): { stop(): Promise<void> } {
  const { store, config, lifecycle, metrics, logger } = deps;
  const interval = config.heartbeatIntervalSeconds;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const beat = async () => {
    let ok = true;
    try {
      await store.heartbeat(
        {
          id: deps.replicaId,
          hostname: deps.hostname,
          podIp: deps.env.POD_IP || "unknown",
          version: VERSION,
          startedAt: lifecycle.startedAt.toISOString(),
          lastSeen: new Date().toISOString(),
          requests: metrics.requestsServed,
          visits: metrics.visitsServed,
          ...sample(),
        },
        interval * 3,
      );
    } catch (err) {
      ok = false;
      logger.debug("heartbeat failed", { error: err instanceof Error ? err.message : String(err) });
    }
    if (!stopped) timer = setTimeout(beat, ok ? interval * 1000 : Math.min(RETRY_MS, interval * 1000));
  };
  void beat();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await store.removeReplica(deps.replicaId).catch(() => {});
    },
  };
}
