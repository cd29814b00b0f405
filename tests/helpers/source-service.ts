// The service from source with the embedded store and a minimal environment, for the browser
// tests: ready when GET / answers 200, heartbeats every second, no shutdown delay.
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { startService, type Service } from "../../scripts/lib/service";

const ROOT = resolve(import.meta.dir, "../..");

export function startFromSource(env: Record<string, string> = {}): Promise<Service> {
  return startService({
    command: ["bun", "run", "src/main.ts"],
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? tmpdir(),
      HOST: "127.0.0.1",
      STORE: "memory",
      LOG_LEVEL: "warn",
      SHUTDOWN_DELAY_SECONDS: "0",
      HEARTBEAT_INTERVAL_SECONDS: "1",
      ...env,
    },
    readyPath: "/",
    timeoutMs: 15_000,
    output: "ignore",
  });
}
