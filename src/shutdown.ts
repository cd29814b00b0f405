// The SIGTERM/SIGINT sequence, apart from the process so it can be tested with any server,
// store, clock and exit:
//   readiness 503 at once -> keep serving SHUTDOWN_DELAY_SECONDS (endpoints are being removed)
//   -> stop the heartbeat and end the long-lived streams -> stop accepting, finish in-flight requests (at most
//   SHUTDOWN_TIMEOUT_SECONDS, then close them) -> close the store -> exit 0.
// A second signal after the duplicate window exits at once (130 for SIGINT, 143 for SIGTERM).
import type { Config } from "./config";
import type { Lifecycle } from "./lifecycle";
import type { Logger } from "./logger";

/**
 * `bun run start`, `timeout` and a terminal's Ctrl-C signal the whole process group, and the
 * parent forwards the signal too, so one keypress can arrive twice within milliseconds. Only a
 * signal that comes after this window means "stop now".
 */
export const DUPLICATE_SIGNAL_MS = 500;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<unknown>;
}

export const realClock: Clock = { now: () => performance.now(), sleep: (ms) => Bun.sleep(ms) };

export interface ShutdownParts {
  config: Pick<Config, "shutdownDelaySeconds" | "shutdownTimeoutSeconds">;
  lifecycle: Lifecycle;
  logger: Logger;
  /** Bun's server: stop(false) waits for in-flight requests, stop(true) closes them. */
  server: { stop(closeActiveConnections?: boolean): Promise<unknown> };
  store: { close(): Promise<unknown> };
  heartbeat: { stop(): Promise<unknown> };
  /** Streams that never end by themselves (the cluster view's): ended before the drain waits on them. */
  streams?: { stop(): Promise<unknown> };
  clock: Clock;
  exit: (code: number) => void;
}

export type Signal = "SIGTERM" | "SIGINT";

/** Returns the signal handler; it resolves when the sequence (or the immediate exit) is done. */
export function createShutdown(parts: ShutdownParts): (signal: Signal) => Promise<void> {
  const { config, lifecycle, logger, server, store, heartbeat, streams, clock, exit } = parts;
  let firstSignalAt = 0;
  return async (signal) => {
    if (!lifecycle.beginShutdown()) {
      if (clock.now() - firstSignalAt < DUPLICATE_SIGNAL_MS) return;
      logger.warn("second signal: exiting now", { signal });
      exit(signal === "SIGINT" ? 130 : 143);
      return;
    }
    firstSignalAt = clock.now();
    logger.info("shutdown: readiness is now 503; still serving while endpoints are removed", {
      signal,
      delay_seconds: config.shutdownDelaySeconds,
    });
    await clock.sleep(config.shutdownDelaySeconds * 1000);
    await heartbeat.stop();
    await streams?.stop();
    logger.info("shutdown: no longer accepting connections; finishing in-flight requests", {
      timeout_seconds: config.shutdownTimeoutSeconds,
    });
    const drained = await Promise.race([
      server.stop(false).then(() => true),
      clock.sleep(config.shutdownTimeoutSeconds * 1000).then(() => false),
    ]);
    if (!drained) {
      logger.warn("shutdown: in-flight requests did not finish in time; closing connections");
      await server.stop(true);
    }
    await store.close();
    lifecycle.markStopped();
    logger.info("shutdown complete", { drained });
    exit(0);
  };
}
