// Wiring only: config, store, app, listen, heartbeat, signals. Everything else is a module.
import { hostname as osHostname } from "node:os";
import { createApp } from "./app";
import { ConfigError, configWarnings, helpText, parseCli, type Config } from "./config";
import type { AppDeps } from "./deps";
import { healthcheck } from "./healthcheck";
import { startHeartbeat } from "./heartbeat";
import { Lifecycle } from "./lifecycle";
import { createLogger } from "./logger";
import { ClusterView } from "./modules/cluster/watcher";
import { Metrics } from "./metrics";
import { createShutdown, realClock } from "./shutdown";
import { createStore } from "./store";
import { REVISION, VERSION } from "./version";

function fail(message: string): never {
  process.stderr.write(`bun-k8s: ${message}\n`);
  process.exit(2);
}

let parsed: ReturnType<typeof parseCli>;
try {
  parsed = parseCli(Bun.argv.slice(2), process.env);
} catch (err) {
  if (err instanceof ConfigError) fail(`invalid configuration: ${err.message}`);
  throw err;
}

const { command, config } = parsed;
if (command === "help") {
  process.stdout.write(helpText(VERSION));
  process.exit(0);
} else if (command === "version") {
  process.stdout.write(`bun-k8s ${VERSION} (revision ${REVISION}, bun ${Bun.version})\n`);
  process.exit(0);
} else if (command === "healthcheck") {
  process.exit(await healthcheck(config.port === 0 ? 8000 : config.port));
} else {
  await serve(config);
}

async function serve(config: Config) {
  const hostname = osHostname();
  const logger = createLogger(config.logLevel, { app: config.appName, server: hostname });
  for (const warning of configWarnings(config)) logger.warn(warning);
  const lifecycle = new Lifecycle();
  const store = createStore(config, logger);
  const deps: AppDeps = {
    config,
    store,
    lifecycle,
    metrics: new Metrics({ defaultMetrics: config.metricsEnabled }),
    logger,
    hostname,
    replicaId: process.env.POD_NAME || `${hostname}-${process.pid}`,
    env: process.env,
    clusterView: new ClusterView({ config, logger, env: process.env, server: hostname }),
    exit: (code) => process.exit(code),
  };

  let app;
  try {
    app = createApp(deps);
  } catch (err) {
    if (err instanceof ConfigError) fail(`invalid configuration: ${err.message}`);
    throw err;
  }
  app.listen({
    port: config.port,
    hostname: config.host,
    // Bun's own hard stop for bodies without Content-Length; the app answers 413 JSON before this.
    maxRequestBodySize: config.maxBodyBytes + 64 * 1024,
    // Elysia turns Bun's development mode on unless NODE_ENV=production; a service never wants it.
    development: false,
  });
  const server = app.server!;
  lifecycle.markStarted();
  const heartbeat = startHeartbeat(deps);
  logger.info("listening", {
    port: server.port,
    host: config.host,
    version: VERSION,
    revision: REVISION,
    store: store.kind,
    pid: process.pid,
  });

  // Never die from a stray rejection: log it and keep serving.
  process.on("unhandledRejection", (reason) => {
    logger.error("unhandled rejection", { error: reason instanceof Error ? reason.stack : String(reason) });
  });
  process.on("uncaughtException", (err) => {
    logger.error("uncaught exception", { error: err.stack ?? String(err) });
  });

  const shutdown = createShutdown({
    config,
    lifecycle,
    logger,
    server,
    store,
    heartbeat,
    streams: deps.clusterView,
    clock: realClock,
    exit: (code) => process.exit(code),
  });
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}
