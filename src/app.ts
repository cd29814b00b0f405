import { openapi } from "@elysiajs/openapi";
import { Elysia, ElysiaCustomStatusResponse, type Context } from "elysia";
import type { AppDeps } from "./deps";
import { HttpError, REDIS_UNAVAILABLE } from "./errors";
import { authModule } from "./modules/auth";
import { chaosModule } from "./modules/chaos";
import { faultsModule } from "./modules/faults";
import { infoModule } from "./modules/info";
import { kvModule } from "./modules/kv";
import { metricsModule } from "./modules/metrics";
import { probesModule } from "./modules/probes";
import { replicasModule } from "./modules/replicas";
import { toolsModule } from "./modules/tools";
import { uiModule } from "./modules/ui";
import { visitsModule } from "./modules/visits";
import { StoreUnavailableError } from "./store/types";
import { VERSION } from "./version";

export type { AppDeps } from "./deps";

const started = Symbol("startedAt");
type Timed = { [started]?: number };

function statusOf(value: unknown): number {
  return typeof value === "number" ? value : Number(value) || 200;
}

/** Composes the feature modules. Pure: no I/O until the caller listens. */
export function createApp(deps: AppDeps) {
  const { config, logger, metrics } = deps;
  const accessLog = logger.enabled("debug");

  // Returns the response unchanged: Elysia 1.4's error path replaces the response with whatever a
  // mapResponse hook returns, even undefined.
  const recordResponse = (ctx: Context & Timed & { responseValue?: unknown }) => {
    const value = ctx.responseValue;
    const start = ctx[started];
    if (start === undefined) return value;
    const seconds = (performance.now() - start) / 1000;
    const status =
      value instanceof Response ? value.status : value instanceof ElysiaCustomStatusResponse ? value.code : statusOf(ctx.set.status);
    const route = ctx.route || "unmatched";
    if (config.metricsEnabled) metrics.recordRequest(ctx.request.method, route, status, seconds);
    else metrics.requestsServed++;
    if (accessLog) {
      logger.debug("request", { method: ctx.request.method, path: ctx.path, route, status, ms: +(seconds * 1000).toFixed(2) });
    }
    return value;
  };

  // Bun drops WebSocket frames past this before they reach JS; /ws/echo enforces the exact cap.
  return new Elysia({ websocket: { maxPayloadLength: Math.max(config.maxWsMessageBytes * 2, 16 * 1024) } })
    .onRequest((ctx) => {
      (ctx as Timed)[started] = performance.now();
      // GET and HEAD carry no body: skipping the header lookup keeps probes cheap. Bodies without
      // Content-Length are capped by Bun's maxRequestBodySize (main.ts).
      const method = ctx.request.method;
      if (method === "GET" || method === "HEAD") return;
      const length = Number(ctx.request.headers.get("content-length") ?? 0);
      if (length > config.maxBodyBytes) {
        ctx.set.status = 413;
        return { error: "request body too large", max_bytes: config.maxBodyBytes };
      }
    })
    .onError(({ error, code, set }) => {
      if (error instanceof HttpError) {
        set.status = error.status;
        return error.body;
      }
      if (error instanceof StoreUnavailableError) {
        logger.warn("store unavailable", { error: error.message });
        set.status = 503;
        return REDIS_UNAVAILABLE;
      }
      switch (code) {
        case "NOT_FOUND":
          set.status = 404;
          return { error: "not found" };
        case "PARSE":
          set.status = 400;
          return { error: "malformed request body", hint: "send JSON with Content-Type: application/json" };
        case "VALIDATION":
          set.status = 422;
          return { error: "invalid request", detail: validationSummary(error) };
      }
      const status = "status" in error ? statusOf((error as { status: unknown }).status) : 500;
      if (status >= 400 && status < 500) {
        set.status = status;
        return { error: error instanceof Error ? error.message : "bad request" };
      }
      logger.error("unhandled error", { error: error instanceof Error ? error.stack : String(error) });
      set.status = 500;
      return { error: "internal error" };
    })
    // Recorded while the response is mapped, synchronously: onAfterResponse would schedule a
    // setImmediate and an async closure per request. Latency is therefore time to a ready
    // response (for streams, to the first byte). isAsync/hasReturn are given so Elysia does not
    // guess them from the (minified) source text.
    .on("mapResponse", { fn: recordResponse, isAsync: false, hasReturn: true } as never)
    .use(
      openapi({
        path: "/openapi",
        documentation: {
          info: {
            title: "bun-k8s",
            version: VERSION,
            description: "A teaching and demo workload for Kubernetes: probes, chaos, shared state, metrics.",
          },
        },
      }),
    )
    .use(faultsModule(deps))
    .use(probesModule(deps))
    .use(infoModule(deps))
    .use(chaosModule(deps))
    .use(visitsModule(deps))
    .use(kvModule(deps))
    .use(authModule(deps))
    .use(replicasModule(deps))
    .use(uiModule(deps))
    .use(toolsModule(deps))
    .use(config.metricsEnabled ? metricsModule(deps) : new Elysia());
}

export type App = ReturnType<typeof createApp>;

function validationSummary(error: unknown): unknown {
  const all = (error as { all?: Array<{ path?: string; summary?: string; message?: string }> }).all;
  if (Array.isArray(all) && all.length > 0) {
    return all.slice(0, 5).map((e) => ({ path: e.path || "/", message: e.summary ?? e.message }));
  }
  return error instanceof Error ? error.message : String(error);
}
