import { Elysia } from "elysia";
import type { AppDeps } from "../../deps";

/** A counter shared by every replica: one atomic INCR per request. */
export const visitsModule = (deps: AppDeps) =>
  new Elysia().get("/visits", async () => {
    const visits = await deps.store.incrementVisits();
    deps.metrics.recordVisit();
    return { visits, server: deps.hostname, redis_host: deps.store.location.host };
  }, { detail: { tags: ["state"], summary: "Increment and return the shared visit counter (503 when Redis is down)" } });
