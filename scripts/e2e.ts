#!/usr/bin/env bun
// `bun run test:e2e` (`task test-e2e`): the end-to-end suite (scripts/lib/e2e/run.ts).
//
//   BASE_URL=http://127.0.0.1:8080 bun run test:e2e [-- --hpa]   against a deployment (kind: `task up`)
//   bun run test:e2e                                             against the local binary (what CI runs)
//
// Without BASE_URL it builds the binary (`bun run build` -> dist/bun-k8s), starts a real
// redis-server with a password and the binary on free loopback ports, configured as in
// Kubernetes (STORE=redis, REDIS_HOST/PORT/PASSWORD, AUTH_USERS, SESSION_SECRET), runs the HTTP
// part of the suite against it, then stops both (the binary with SIGTERM: it must exit 0).
// Options: --no-build (use the existing dist/bun-k8s), --source (run src/main.ts instead of the
// binary), --keep-logs; anything else is passed to the suite.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, startRedis, stopRedis } from "./lib/redis";
import { ROOT } from "./lib/repo";
import { startService, type Service } from "./lib/service";
import { formatSummary, type Summary } from "./lib/e2e/harness";
import { parseSuiteArgs, runSuite, UsageError } from "./lib/e2e/run";

const BINARY = join(ROOT, "dist/bun-k8s");
const E2E_USER = "e2e";
const E2E_PASSWORD = "e2e-pass:word,with-punctuation";

async function local(passthrough: string[], flags: { build: boolean; source: boolean; keepLogs: boolean }): Promise<number> {
  // 1. The program under test.
  let command: string[];
  let label = "local binary";
  if (flags.source) {
    label = "local source";
    command = [process.execPath, "run", join(ROOT, "src/main.ts")];
    console.log("e2e: running from source (--source)");
  } else if (!existsSync(join(ROOT, "scripts/build.ts"))) {
    command = [process.execPath, "run", join(ROOT, "src/main.ts")];
    label = "local source";
    console.log("e2e: scripts/build.ts does not exist yet: running src/main.ts instead of the compiled binary");
  } else {
    if (flags.build) {
      console.log("e2e: bun run build");
      const build = Bun.spawn([process.execPath, "run", "build"], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
      if ((await build.exited) !== 0) {
        console.error("e2e: bun run build failed");
        return 1;
      }
    }
    if (!existsSync(BINARY)) {
      console.error(`e2e: ${BINARY} does not exist (run bun run build, or drop --no-build)`);
      return 1;
    }
    command = [BINARY];
  }

  // 2. A real Redis with a password, as in the cluster.
  const redisPassword = `e2e-${crypto.randomUUID()}`;
  const redis = await startRedis({ password: redisPassword, appendonly: false });
  const port = await freePort();
  const logDir = mkdtempSync(join(tmpdir(), "bun-k8s-e2e-"));
  const logFile = join(logDir, "service.log");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? tmpdir(),
    HOST: "127.0.0.1",
    STORE: "redis",
    REDIS_HOST: "127.0.0.1",
    REDIS_PORT: String(redis.port),
    REDIS_PASSWORD: redisPassword,
    REDIS_KEY_PREFIX: `bun-k8s-e2e-${port}:`,
    // A JSON object: the password's comma would split the one-line form into two entries.
    AUTH_USERS: JSON.stringify({ [E2E_USER]: E2E_PASSWORD }),
    SESSION_SECRET: crypto.randomUUID(),
    LOG_LEVEL: "info",
    HEARTBEAT_INTERVAL_SECONDS: "1",
    SHUTDOWN_DELAY_SECONDS: "0",
    SHUTDOWN_TIMEOUT_SECONDS: "5",
    MAX_STRESS_SECONDS: "5",
  };
  const baseUrl = `http://127.0.0.1:${port}`;

  let service: Service | undefined;
  let summary: Summary | null = null;
  let code = 1;
  try {
    // 3. Start it and wait until it is ready (Redis connected: /ready and /visits/count 200).
    service = await startService({
      command,
      cwd: logDir,
      env,
      port,
      readyPath: ["/ready", "/visits/count"],
      timeoutMs: 20_000,
      intervalMs: 100,
      output: { file: logFile },
    }).catch((err: Error) => {
      console.error(`e2e: the service did not become ready on ${baseUrl}: ${err.message.split("\n")[0]}`);
      return undefined;
    });
    if (service) {
      console.log(`e2e: ${command.map((c) => c.replace(ROOT + "/", "")).join(" ")} on ${baseUrl}, redis-server on 127.0.0.1:${redis.port} (pid ${service.proc.pid})`);
      // 4. The HTTP part of the suite: one process, so exactly one `server`, probes may be toggled.
      const options = parseSuiteArgs(
        ["--base-url", baseUrl, "--only", "http", "--single-process", "--expect-servers", "1", "--username", E2E_USER, "--password", E2E_PASSWORD, ...passthrough],
        {},
      );
      summary = await runSuite(options);
      code = summary.failed > 0 || summary.passed === 0 ? 1 : 0;
    }
  } finally {
    // 5. Stop: SIGTERM must drain and exit 0 (the same path as a pod deletion).
    if (service) {
      const stopStarted = performance.now();
      const exited = await service.stop("SIGTERM", 15_000);
      const stopMs = Math.round(performance.now() - stopStarted);
      if (service.proc.signalCode === "SIGKILL" && stopMs >= 15_000) {
        console.error("e2e: FAIL the service did not exit within 15 s of SIGTERM");
        code = 1;
      } else if (exited !== 0) {
        console.error(`e2e: FAIL the service exited with code ${exited} after SIGTERM (expected 0)`);
        code = 1;
      } else {
        console.log(`e2e: service stopped on SIGTERM with exit code 0 in ${stopMs} ms`);
      }
    }
    await stopRedis(redis);
    const text = await Bun.file(logFile).text().catch(() => "");
    if (code !== 0) {
      const lines = text.trimEnd().split("\n");
      console.error(`\n--- last ${Math.min(lines.length, 40)} lines of the service log (${logFile}) ---\n${lines.slice(-40).join("\n")}`);
    }
    if (code === 0 && !flags.keepLogs) rmSync(logDir, { recursive: true, force: true });
    else console.error(`e2e: service log kept in ${logFile}`);
  }
  if (summary) console.log(`e2e (${label}): ${formatSummary(summary, 0).replace(/ \(.*\)$/, "")}${code === 0 ? "" : " - FAILED"}`);
  return code;
}

async function main(argv: string[]): Promise<number> {
  const flags = { build: true, source: false, keepLogs: false };
  const passthrough: string[] = [];
  for (const arg of argv) {
    if (arg === "--no-build") flags.build = false;
    else if (arg === "--source") flags.source = true;
    else if (arg === "--keep-logs") flags.keepLogs = true;
    else passthrough.push(arg);
  }
  const hasUrl = Boolean(process.env.BASE_URL) || passthrough.some((a) => a === "--base-url" || a.startsWith("--base-url="));
  if (!hasUrl) return local(passthrough, flags);
  try {
    const summary = await runSuite(parseSuiteArgs(passthrough));
    return summary.failed > 0 || summary.passed === 0 ? 1 : 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`e2e: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

if (import.meta.main) {
  process.exit(await main(process.argv.slice(2)));
}
