import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "./deps";
import { httpLayer } from "./http/layer";
import { authModule } from "./modules/auth";
import { chaosModule } from "./modules/chaos";
import { clusterModule } from "./modules/cluster";
import { faultsModule } from "./modules/faults";
import { infoModule } from "./modules/info";
import { kvModule } from "./modules/kv";
import { metricsModule } from "./modules/metrics";
import { openapiModule } from "./modules/openapi";
import { probesModule } from "./modules/probes";
import { replicasModule } from "./modules/replicas";
import { toolsModule } from "./modules/tools";
import { uiModule } from "./modules/ui";
import { visitsModule } from "./modules/visits";

export type { AppDeps } from "./deps";

/**
 * Every route, by the module that serves it (src/modules/<name>). tests/app.test.ts
 * checks each module registers exactly these, and the README's route table is generated from it.
 */
export const ROUTES = {
  info: ["GET /", "GET /config", "GET /version", "GET /info"],
  probes: ["GET /health", "POST /health/enable", "POST /health/disable", "GET /ready", "POST /ready/enable", "POST /ready/disable"],
  chaos: ["POST /crash", "GET /stress", "GET /stress/memory", "POST /stress/memory/release"],
  faults: ["GET /faults", "POST /faults/enable", "POST /faults/disable"],
  visits: ["GET /visits", "GET /visits/count"],
  kv: ["GET /kv", "GET /kv/:key", "POST /kv/:key", "DELETE /kv/:key"],
  auth: ["POST /login", "GET /me", "POST /logout"],
  replicas: ["GET /replicas"],
  cluster: ["GET /cluster", "GET /cluster/events"],
  ui: ["GET /ui", "GET /ui/app.js", "GET /ui/app.css", "GET /ui/uplot.js", "GET /ui/uplot.css"],
  tools: [
    "GET /env", "GET /headers", "POST /echo", "GET /delay/:seconds", "GET /status/:code", "POST /status/:code",
    "GET /dns", "GET /chunked/:seconds", "GET /ws/echo", "WS /ws/echo",
  ],
  metrics: ["GET /metrics"],
  openapi: [
    "GET /openapi", "GET /openapi/json",
    "GET /openapi/assets/swagger-ui.css", "GET /openapi/assets/swagger-ui-bundle.js", "GET /openapi/assets/init.js",
  ],
} as const satisfies Record<string, readonly string[]>;

export type ModuleName = keyof typeof ROUTES;

/** The feature modules, by name; the HTTP layer and fault injection wrap them all. */
export function featureModules(deps: AppDeps): Record<Exclude<ModuleName, "faults">, AnyElysia> {
  return {
    openapi: openapiModule(deps),
    probes: probesModule(deps),
    info: infoModule(deps),
    chaos: chaosModule(deps),
    visits: visitsModule(deps),
    kv: kvModule(deps),
    auth: authModule(deps),
    replicas: replicasModule(deps),
    cluster: clusterModule(deps),
    ui: uiModule(deps),
    tools: toolsModule(deps),
    metrics: deps.config.metricsEnabled ? metricsModule(deps) : new Elysia(),
  };
}

/** Composes the feature modules inside the HTTP layer. Pure: no I/O until the caller listens. */
export function createApp(deps: AppDeps) {
  const modules = featureModules(deps);
  // Bun drops WebSocket frames past this before they reach JS; /ws/echo enforces the exact cap.
  return new Elysia({
    websocket: {
      maxPayloadLength: Math.max(deps.config.maxWsMessageBytes * 2, 16 * 1024),
      // Bun buffers up to 16 MB per socket for a client that does not read, and keeps it open.
      backpressureLimit: deps.config.wsBackpressureBytes,
      closeOnBackpressureLimit: true,
    },
    // Elysia's default skips the first 11 characters of the URL when it looks for the path, so
    // with `Host: x` the first segment of the path is skipped too and /public/ready/disable
    // matches /ready/disable, which defeats path rules in an ingress or mesh.
    handler: { standardHostname: false },
  })
    .use(httpLayer(deps))
    .use(faultsModule(deps))
    .use(modules.openapi)
    .use(modules.probes)
    .use(modules.info)
    .use(modules.chaos)
    .use(modules.visits)
    .use(modules.kv)
    .use(modules.auth)
    .use(modules.replicas)
    .use(modules.cluster)
    .use(modules.ui)
    .use(modules.tools)
    .use(modules.metrics);
}

export type App = ReturnType<typeof createApp>;
