import { Elysia } from "elysia";
import type { AppDeps } from "../../deps";

const readyBody = (deps: AppDeps) =>
  deps.lifecycle.ready
    ? { status: "ready" as const }
    : {
        status: "not ready" as const,
        reason: deps.lifecycle.phase === "serving" ? "disabled by POST /ready/disable" : deps.lifecycle.phase,
      };

const healthBody = (deps: AppDeps) =>
  deps.lifecycle.live ? { status: "healthy" as const } : { status: "unhealthy" as const, reason: "disabled by POST /health/disable" };

/** Liveness and readiness, and the toggles that make them fail on purpose. */
export const probesModule = (deps: AppDeps) =>
  new Elysia()
    .get("/health", ({ set }) => {
      const body = healthBody(deps);
      if (!deps.lifecycle.live) set.status = 503;
      return body;
    }, { detail: { tags: ["probes"], summary: "Liveness: 503 only after POST /health/disable" } })
    .post("/health/enable", () => {
      deps.lifecycle.setLiveness(true);
      deps.logger.info("liveness enabled");
      return healthBody(deps);
    }, { detail: { tags: ["probes"], summary: "Make /health answer 200 again" } })
    .post("/health/disable", () => {
      deps.lifecycle.setLiveness(false);
      deps.logger.warn("liveness disabled by request: the kubelet will restart this container");
      return healthBody(deps);
    }, { detail: { tags: ["probes"], summary: "Make /health answer 503 (kubelet restarts the pod)" } })
    .get("/ready", ({ set }) => {
      const body = readyBody(deps);
      if (!deps.lifecycle.ready) set.status = 503;
      return body;
    }, { detail: { tags: ["probes"], summary: "Readiness: 503 while disabled or shutting down" } })
    .post("/ready/enable", () => {
      deps.lifecycle.setReadiness(true);
      deps.logger.info("readiness enabled");
      return readyBody(deps);
    }, { detail: { tags: ["probes"], summary: "Put this pod back into Service endpoints" } })
    .post("/ready/disable", () => {
      deps.lifecycle.setReadiness(false);
      deps.logger.warn("readiness disabled by request: this pod leaves the Service endpoints");
      return readyBody(deps);
    }, { detail: { tags: ["probes"], summary: "Take this pod out of Service endpoints" } });
