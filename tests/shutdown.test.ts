// src/shutdown.ts: the SIGTERM/SIGINT sequence with a recording server, store, clock and exit.
// One process-level drain per artifact stays: tests/system/process.test.ts (source),
// tests/system/binary.test.ts (binary) and scripts/test-image.ts (image).
import { describe, expect, test } from "bun:test";
import { Lifecycle } from "../src/lifecycle";
import { silentLogger } from "../src/logger";
import { createShutdown, DUPLICATE_SIGNAL_MS, type ShutdownParts } from "../src/shutdown";

/** A clock whose sleeps resolve when the test advances time past them. */
function manualClock() {
  let now = 0;
  const sleepers: Array<{ until: number; wake: () => void }> = [];
  return {
    now: () => now,
    sleep: (ms: number) => new Promise<void>((wake) => sleepers.push({ until: now + ms, wake })),
    async advance(ms: number) {
      now += ms;
      for (const s of sleepers.splice(0)) {
        if (s.until <= now) s.wake();
        else sleepers.push(s);
      }
      for (let i = 0; i < 5; i++) await Promise.resolve();
      await Bun.sleep(0);
    },
  };
}

function setup(options: { serverDrains?: boolean; delaySeconds?: number; timeoutSeconds?: number } = {}) {
  const events: string[] = [];
  const clock = manualClock();
  const lifecycle = new Lifecycle();
  lifecycle.markStarted();
  const parts: ShutdownParts = {
    config: { shutdownDelaySeconds: options.delaySeconds ?? 5, shutdownTimeoutSeconds: options.timeoutSeconds ?? 10 },
    lifecycle,
    logger: silentLogger,
    server: {
      stop(force) {
        events.push(force ? "server.stop(force)" : "server.stop");
        return options.serverDrains === false && !force ? new Promise(() => {}) : Promise.resolve();
      },
    },
    store: { close: async () => void events.push("store.close") },
    heartbeat: { stop: async () => void events.push("heartbeat.stop") },
    clock,
    exit: (code) => void events.push(`exit ${code}`),
  };
  return { shutdown: createShutdown(parts), events, clock, lifecycle };
}

describe("shutdown sequence", () => {
  test("readiness fails at once; serving continues for the delay; then drain, store, exit 0", async () => {
    const { shutdown, events, clock, lifecycle } = setup({ delaySeconds: 5 });
    const done = shutdown("SIGTERM");
    expect(lifecycle.ready).toBe(false);
    expect(lifecycle.live).toBe(true);
    await clock.advance(4999);
    expect(events).toEqual([]);
    await clock.advance(1);
    await done;
    expect(events).toEqual(["heartbeat.stop", "server.stop", "store.close", "exit 0"]);
    expect(lifecycle.phase).toBe("stopped");
  });

  test("in-flight requests that outlast SHUTDOWN_TIMEOUT_SECONDS are closed, and the exit is still 0", async () => {
    const { shutdown, events, clock } = setup({ delaySeconds: 0, serverDrains: false, timeoutSeconds: 3 });
    const done = shutdown("SIGTERM");
    await clock.advance(0);
    expect(events).toEqual(["heartbeat.stop", "server.stop"]);
    await clock.advance(3000);
    await done;
    expect(events).toEqual(["heartbeat.stop", "server.stop", "server.stop(force)", "store.close", "exit 0"]);
  });

  test(`a duplicate signal within ${DUPLICATE_SIGNAL_MS} ms is ignored: the drain goes on`, async () => {
    const { shutdown, events, clock } = setup({ delaySeconds: 1 });
    const done = shutdown("SIGINT");
    await clock.advance(DUPLICATE_SIGNAL_MS - 1);
    await shutdown("SIGINT");
    expect(events).toEqual([]);
    await clock.advance(1000);
    await done;
    expect(events.at(-1)).toBe("exit 0");
  });

  test.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)("a second %s after the window exits at once with %i", async (signal, code) => {
    const { shutdown, events, clock } = setup({ delaySeconds: 30 });
    void shutdown(signal);
    await clock.advance(DUPLICATE_SIGNAL_MS);
    await shutdown(signal);
    expect(events).toEqual([`exit ${code}`]);
  });
});
