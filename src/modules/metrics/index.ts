import { Elysia } from "elysia";
import type { AppDeps } from "../../deps";

/** Prometheus text exposition of request, process and app metrics. */
export const metricsModule = (deps: AppDeps) => {
  const { metrics, lifecycle, store } = deps;
  return new Elysia().get("/metrics", async ({ set }) => {
    metrics.ready.set(lifecycle.ready ? 1 : 0);
    metrics.live.set(lifecycle.live ? 1 : 0);
    metrics.storeUp.set((await store.ping()) ? 1 : 0);
    set.headers["content-type"] = metrics.contentType;
    return metrics.exposition();
  }, { detail: { tags: ["observability"], summary: "Prometheus metrics" } });
};
