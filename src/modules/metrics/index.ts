import { Elysia } from "elysia";
import type { AppDeps } from "../../deps";
import { sharedReading } from "../../metrics";

/** Prometheus text exposition of request, process and app metrics. */
export const metricsModule = (deps: AppDeps) => {
  const { metrics, lifecycle, store } = deps;
  // One PING per DEFAULTS_MAX_AGE_MS, shared by the scrapes in between: a storm of scrapes is not
  // a storm of PINGs (50 concurrent scrapes, each with its own PING, ran at a fifth of the req/s).
  const storeUp = sharedReading(async () => ({ value: await store.ping() }));
  return new Elysia().get("/metrics", async ({ set }) => {
    metrics.ready.set(lifecycle.ready ? 1 : 0);
    metrics.live.set(lifecycle.live ? 1 : 0);
    metrics.storeUp.set((await storeUp()) ? 1 : 0);
    set.headers["content-type"] = metrics.contentType;
    return metrics.exposition();
  }, { detail: { tags: ["observability"], summary: "Prometheus metrics" } });
};
