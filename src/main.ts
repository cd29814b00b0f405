// Wiring only: config, store, app, listen, heartbeat, signals. Everything else is a module.
import { hostname as osHostname } from "node:os";
import { createApp } from "./app";
import { DEMO_USERS, parseUsers } from "./auth/users";
import { ConfigError, helpText, parseCli, type Config } from "./config";
import type { AppDeps } from "./deps";
import { healthcheck } from "./healthcheck";
import { startHeartbeat } from "./heartbeat";
import { Lifecycle } from "./lifecycle";
import { createLogger } from "./logger";
import { Metrics } from "./metrics";
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
  let users;
  try {
    users = parseUsers(config.authUsers ?? DEMO_USERS);
  } catch (err) {
    fail(`invalid configuration: ${(err as Error).message}`);
  }
  if (!config.authUsers) {
    logger.warn("AUTH_USERS is not set: demo users admin/admin and user/user are active; set AUTH_USERS before exposing this service");
  }

  const lifecycle = new Lifecycle();
  const store = createStore(config, logger);
  const deps: AppDeps = {
    config,
    store,
    lifecycle,
    metrics: new Metrics({ defaultMetrics: config.metricsEnabled }),
    logger,
    users,
    hostname,
    replicaId: process.env.POD_NAME || `${hostname}-${process.pid}`,
    env: process.env,
    exit: (code) => process.exit(code),
  };

  const app = createApp(deps).listen({
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

  // `bun run start`, `timeout` and a terminal's Ctrl-C signal the whole process group, and the
  // parent forwards the signal too, so one keypress can arrive twice within milliseconds. Only a
  // signal that comes after this window means "stop now".
  const DUPLICATE_SIGNAL_MS = 500;
  let firstSignalAt = 0;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (!lifecycle.beginShutdown()) {
      if (performance.now() - firstSignalAt < DUPLICATE_SIGNAL_MS) return;
      logger.warn("second signal: exiting now", { signal });
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    firstSignalAt = performance.now();
    logger.info("shutdown: readiness is now 503; still serving while endpoints are removed", {
      signal,
      delay_seconds: config.shutdownDelaySeconds,
    });
    await Bun.sleep(config.shutdownDelaySeconds * 1000);
    await heartbeat.stop();
    logger.info("shutdown: no longer accepting connections; finishing in-flight requests", {
      timeout_seconds: config.shutdownTimeoutSeconds,
    });
    const drained = await Promise.race([
      server.stop(false).then(() => true),
      Bun.sleep(config.shutdownTimeoutSeconds * 1000).then(() => false),
    ]);
    if (!drained) {
      logger.warn("shutdown: in-flight requests did not finish in time; closing connections");
      await server.stop(true);
    }
    await store.close();
    lifecycle.markStopped();
    logger.info("shutdown complete", { drained });
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}
