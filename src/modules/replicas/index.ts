import { Elysia } from "elysia";
import type { AppDeps } from "../../deps";

/** The replicas alive right now, from their heartbeats in the shared store. */
export const replicasModule = (deps: AppDeps) =>
  new Elysia().get("/replicas", async () => {
    const replicas = await deps.store.listReplicas();
    return { replicas, count: replicas.length, server: deps.hostname };
  }, { detail: { tags: ["state"], summary: "Live replicas (heartbeats with a short TTL)" } });
