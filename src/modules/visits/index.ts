import { Elysia } from "elysia";
import type { AppDeps } from "../../deps";

const tags = ["state"];

/** A counter shared by every replica: one atomic INCR per request. */
export const visitsModule = (deps: AppDeps) =>
  new Elysia()
    .get("/visits", async () => {
      const visits = await deps.store.incrementVisits();
      deps.metrics.recordVisit();
      return { visits, server: deps.hostname, redis_host: deps.store.location.host };
    }, { detail: { tags, summary: "Increment and return the shared visit counter (503 when Redis is down)" } })
    .get("/visits/count", async () => {
      const visits = await deps.store.getVisits();
      return { visits, server: deps.hostname, redis_host: deps.store.location.host };
    }, { detail: { tags, summary: "Read the shared visit counter without incrementing it (for dashboards)" } });
