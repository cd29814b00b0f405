// The app without a process: deps the way main.ts builds them, with an in-memory store, a silent
// logger and no exit. For app.handle() tests and for scripts that read the app's route list.
import { createApp } from "../../src/app";
import { parseCli, type Config } from "../../src/config";
import type { AppDeps } from "../../src/deps";
import { Lifecycle } from "../../src/lifecycle";
import { silentLogger } from "../../src/logger";
import { Metrics } from "../../src/metrics";
import { ClusterView } from "../../src/modules/cluster/watcher";
import { MemoryStore } from "../../src/store/memory";

/** The config the service would load from this environment (and no flags). */
export function configFrom(env: Record<string, string | undefined> = {}): Config {
  return parseCli([], env).config;
}

export function offlineDeps(env: Record<string, string> = {}, overrides: Partial<AppDeps> = {}): AppDeps {
  const lifecycle = new Lifecycle();
  lifecycle.markStarted();
  const config = configFrom({ SHUTDOWN_DELAY_SECONDS: "0", ...env });
  return {
    config,
    store: new MemoryStore(),
    lifecycle,
    metrics: new Metrics({ defaultMetrics: false }),
    logger: silentLogger,
    hostname: "test-host",
    replicaId: "test-host-1",
    env: {},
    clusterView: new ClusterView({ config, logger: silentLogger, env: {}, server: "test-host" }),
    exit: () => {
      throw new Error("exit called without an exit of the caller's own");
    },
    ...overrides,
  };
}

export function offlineApp(env: Record<string, string> = {}) {
  return createApp(offlineDeps(env));
}
