import type { AppDeps } from "./deps";
import { VERSION } from "./version";

const RETRY_MS = 1000;

/**
 * Refreshes this replica's entry in /replicas every interval; the entry expires after 3 intervals.
 * A failed beat (Redis not connected yet, or down) is retried after a second, so a new pod shows
 * up as soon as Redis answers rather than one full interval later.
 */
export function startHeartbeat(deps: AppDeps): { stop(): Promise<void> } {
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
