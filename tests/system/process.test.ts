// The real process from source: wiring, SIGTERM drain, exit codes and a storm of bad input.
// The shutdown sequence itself (delays, duplicate signals, exit codes) is unit-tested in
// tests/shutdown.test.ts; the compiled binary and the image have their own process tests.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawn } from "bun";
import { startService, type Service } from "../../scripts/lib/service";
import { runStorm } from "../../scripts/lib/storm";

setDefaultTimeout(30_000);
const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

// Explicit minimal env: the process sees only what the test gives it.
const start = (env: Record<string, string> = {}, args: string[] = []): Promise<Service> =>
  startService({ command: ["bun", MAIN, ...args], env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/tmp", SHUTDOWN_DELAY_SECONDS: "0", ...env } });

describe("process", () => {
  test("starts with the embedded store and says so; JSON log lines", async () => {
    const app = await start();
    expect((await (await fetch(app.url("/visits"))).json()).redis_host).toBe("memory");
    app.proc.kill("SIGTERM");
    expect(await app.proc.exited).toBe(0);
    const lines = (await app.output()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.some((l) => l.msg.startsWith("store: embedded in-memory"))).toBe(true);
    expect(lines.some((l) => l.level === "warn" && l.msg.includes("AUTH_USERS is not set"))).toBe(true);
    expect(lines.find((l) => l.msg === "listening")).toMatchObject({ store: "memory" });
    expect(lines.some((l) => l.msg === "request")).toBe(false);
  });

  test("LOG_LEVEL=debug writes one access line per request", async () => {
    const app = await start({ LOG_LEVEL: "debug" });
    await fetch(app.url("/kv/x"));
    app.proc.kill("SIGTERM");
    await app.proc.exited;
    const access = (await app.output()).trim().split("\n").map((l) => JSON.parse(l)).filter((l) => l.msg === "request" && l.path === "/kv/x");
    expect(access).toEqual([expect.objectContaining({ method: "GET", route: "/kv/:key", status: 404 })]);
  });

  test("SIGTERM: readiness 503 at once, in-flight requests finish, exit 0", async () => {
    const app = await start({ SHUTDOWN_DELAY_SECONDS: "1" });
    const inflight = Array.from({ length: 4 }, () => fetch(app.url("/stress?seconds=2")).then((r) => r.status));
    const slowDelay = fetch(app.url("/delay/1")).then((r) => r.status).catch(() => -1);
    await Bun.sleep(200);
    const signalledAt = performance.now();
    app.proc.kill("SIGTERM");
    await Bun.sleep(100);
    const ready = await fetch(app.url("/ready"));
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: "not ready", reason: "draining" });
    // Still serving during the delay, so requests routed before endpoints update succeed.
    expect((await fetch(app.url("/health"))).status).toBe(200);
    expect((await fetch(app.url("/"))).status).toBe(200);
    expect(await Promise.all(inflight)).toEqual([200, 200, 200, 200]);
    expect(await slowDelay).toBe(200);
    expect(await app.proc.exited).toBe(0);
    const elapsed = performance.now() - signalledAt;
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(5000);
    const logs = await app.output();
    expect(logs).toContain("shutdown complete");
  });

  test("POST /crash answers, then the process exits non-zero", async () => {
    const app = await start();
    const res = await fetch(app.url("/crash"), { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ message: "crashing" });
    expect(await app.proc.exited).toBe(1);
  });

  test("invalid configuration fails at start with one message naming the variable", async () => {
    for (const [env, args, name] of [
      [{ PORT: "eighty" }, [], "PORT"],
      [{ LOG_LEVEL: "loud" }, [], "LOG_LEVEL"],
      [{}, ["--max-stress-seconds", "0"], "--max-stress-seconds"],
      [{ AUTH_USERS: "nocolon" }, [], "AUTH_USERS"],
      [{ REDIS_URL: "redis://:s3cr@et#frag@127.0.0.1:16399" }, [], "REDIS_URL"],
    ] as const) {
      const proc = spawn(["bun", MAIN, ...args], { env: { PATH: process.env.PATH!, ...env }, stdout: "pipe", stderr: "pipe" });
      expect(await proc.exited).toBe(2);
      const stderr = await new Response(proc.stderr).text();
      expect(stderr).toContain(name);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).not.toContain("s3cr");
    }
  });

  test("--help, --version and healthcheck", async () => {
    const help = spawn(["bun", MAIN, "--help"], { stdout: "pipe" });
    expect(await help.exited).toBe(0);
    expect(await new Response(help.stdout).text()).toContain("MAX_STRESS_SECONDS");
    const version = spawn(["bun", MAIN, "--version"], { stdout: "pipe" });
    expect(await version.exited).toBe(0);
    const pkg = await Bun.file(new URL("../../package.json", import.meta.url)).json();
    expect(await new Response(version.stdout).text()).toContain(pkg.version);

    const app = await start();
    const ok = spawn(["bun", MAIN, "healthcheck"], { env: { PATH: process.env.PATH!, PORT: String(app.port) } });
    expect(await ok.exited).toBe(0);
    await fetch(app.url("/health/disable"), { method: "POST" });
    const sick = spawn(["bun", MAIN, "healthcheck", "--port", String(app.port)], { env: { PATH: process.env.PATH! } });
    expect(await sick.exited).toBe(1);
    app.proc.kill("SIGTERM");
    await app.proc.exited;
    const none = spawn(["bun", MAIN, "healthcheck", "--port", String(app.port)], { env: { PATH: process.env.PATH! } });
    expect(await none.exited).toBe(1);
  });

  test("bad input storm: a few hundred malformed requests, zero 5xx, process up", async () => {
    const app = await start();
    const r = await runStorm(app.origin, 400, 8, 30_000);
    expect(r.requests + r.rawSent).toBe(400);
    expect(r.fiveXx).toBe(0);
    expect(r.networkErrors).toBe(0);
    // Every kind of bad input got a 4xx somewhere (the catalogue is not accidentally all valid).
    for (const [kind, statuses] of Object.entries(r.byKind)) {
      expect({ kind, has4xx: Object.keys(statuses as object).some((s) => s.startsWith("4")) }).toEqual({ kind, has4xx: true });
    }
    expect((await fetch(app.url("/health"))).status).toBe(200);
    expect(app.proc.exitCode).toBeNull();
    await app.stop();
  });
});
