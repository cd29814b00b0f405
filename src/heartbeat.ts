import type { AppDeps } from "./deps";
import { VERSION } from "./version";

/** Refreshes this replica's entry in /replicas every interval; the entry expires after 3 intervals. */
export function startHeartbeat(deps: AppDeps): { stop(): Promise<void> } {
  const { store, config, lifecycle, metrics, logger } = deps;
  const interval = config.heartbeatIntervalSeconds;
  const beat = async () => {
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
      logger.debug("heartbeat failed", { error: err instanceof Error ? err.message : String(err) });
    }
  };
  void beat();
  const timer = setInterval(beat, interval * 1000);
  return {
    async stop() {
      clearInterval(timer);
      await store.removeReplica(deps.replicaId).catch(() => {});
    },
  };
}
