// Resilience drills that fit in a test run (the full versions with wrk: `bun run drill`).
// Each test runs the real service (`bun src/main.ts`) as a separate process on a free loopback port.
import { afterEach, describe, expect, test } from "bun:test";
import { slowPost, startProbe, timedGet, waitForStatus } from "../scripts/drill/probe";
import { runStorm } from "../scripts/drill/storm";
import { startRedis, stopRedis, type RedisProcess } from "./helpers/redis";
import { startService, type Service } from "./helpers/service";

const ROOT = new URL("..", import.meta.url).pathname;
const started: Service[] = [];
const redises: RedisProcess[] = [];

// Inherits the test runner's env (tests/setup.ts has removed REDIS_URL/REDIS_HOST from it).
async function startApp(env: Record<string, string>): Promise<Service> {
  const p = await startService({
    command: [process.execPath, "src/main.ts"],
    cwd: ROOT,
    env: { ...process.env, HOST: "127.0.0.1", AUTH_USERS: "t:t", LOG_LEVEL: "error", SHUTDOWN_DELAY_SECONDS: "0", ...env },
    timeoutMs: 15_000,
    output: "ignore",
  });
  started.push(p);
  return p;
}

afterEach(async () => {
  for (const p of started.splice(0)) await p.stop("SIGTERM", 5_000);
  for (const r of redises.splice(0)) await stopRedis(r);
});

/** `workers` keep-alive loops GETting url until the deadline; every result is recorded. */
async function load(url: string, ms: number, workers = 8) {
  const results: { t: number; status: number; ms: number }[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() - t0 < ms) {
        const start = performance.now();
        let status = 0;
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
          await res.arrayBuffer();
          status = res.status;
        } catch {
          status = 0;
        }
        results.push({ t: start - t0, status, ms: performance.now() - start });
      }
    }),
  );
  return results;
}

describe("resilience", () => {
  test("Redis stopped mid-run: 503 fast, /health stays 200, recovery without restart", async () => {
    const redis = await startRedis();
    redises.push(redis);
    const app = await startApp({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: "resilience-outage:" });
    expect(await waitForStatus(app.url("/visits"), 5000)).toBeGreaterThanOrEqual(0);

    const health = startProbe(app.url("/health"), 20);
    const loadStart = performance.now();
    const running = load(app.url("/visits"), 1500);
    await Bun.sleep(300);
    const stopOffset = performance.now() - loadStart;
    await redis.stop("SIGKILL");
    const results = await running;
    const h = await health.stop();

    const afterStop = results.filter((r) => r.t > stopOffset + 100);
    const statuses = new Set(results.map((r) => r.status));
    expect([...statuses].every((s) => s === 200 || s === 503)).toBe(true);
    const unavailable = results.filter((r) => r.status === 503);
    expect(unavailable.length).toBeGreaterThan(0);
    expect(Math.max(...unavailable.map((r) => r.ms))).toBeLessThan(1000);
    expect(afterStop.length).toBeGreaterThan(0);
    expect(afterStop.filter((r) => r.status !== 503)).toEqual([]);
    expect(h.errors).toBe(0);
    expect(h.statuses["200"]).toBe(h.count);

    const body = await timedGet(app.url("/visits"));
    expect(body.status).toBe(503);
    expect(JSON.parse(body.body)).toEqual({ error: "redis unavailable" });

    await redis.restart();
    expect(await waitForStatus(app.url("/visits"), 10_000)).toBeGreaterThanOrEqual(0);
    expect(app.proc.exitCode).toBeNull();
  });

  test("Redis hung (SIGSTOP): 503 within about a second, /health fast, recovery on SIGCONT", async () => {
    const redis = await startRedis();
    redises.push(redis);
    const app = await startApp({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: "resilience-hung:", REDIS_TIMEOUT_MS: "500" });
    expect(await waitForStatus(app.url("/visits"), 5000)).toBeGreaterThanOrEqual(0);

    redis.pause();
    try {
      const [visits, kv] = await Promise.all([timedGet(app.url("/visits"), {}, 5000), timedGet(app.url("/kv/x"), {}, 5000)]);
      expect(visits.status).toBe(503);
      expect(visits.ms).toBeLessThan(1200);
      expect(kv.status).toBe(503);
      expect(kv.ms).toBeLessThan(1200);
      const health = await timedGet(app.url("/health"), {}, 2000);
      expect(health.status).toBe(200);
      expect(health.ms).toBeLessThan(100);
    } finally {
      redis.resume();
    }
    expect(await waitForStatus(app.url("/visits"), 5000)).toBeGreaterThanOrEqual(0);
  });

  test("bad input storm: a few hundred malformed requests, zero 5xx, process up", async () => {
    const app = await startApp({ REDIS_URL: process.env.TEST_REDIS_URL!, REDIS_KEY_PREFIX: "resilience-storm:" });
    await waitForStatus(app.url("/visits"), 5000);
    const r = await runStorm(app.origin, 400, 8, 30_000);
    expect(r.requests + r.rawSent).toBe(400);
    expect(r.fiveXx).toBe(0);
    expect(r.networkErrors).toBe(0);
    // Every kind of bad input got a 4xx somewhere (the catalogue is not accidentally all valid).
    for (const [kind, statuses] of Object.entries(r.byKind)) {
      expect({ kind, has4xx: Object.keys(statuses).some((s) => s.startsWith("4")) }).toEqual({ kind, has4xx: true });
    }
    const health = await timedGet(app.url("/health"));
    expect(health.status).toBe(200);
    expect(app.proc.exitCode).toBeNull();
  });

  test("graceful SIGTERM under load: zero failed requests, in-flight request completes, exit 0", async () => {
    const delay = 1;
    const app = await startApp({ SHUTDOWN_DELAY_SECONDS: String(delay), SHUTDOWN_TIMEOUT_SECONDS: "10" });
    // Load from before the signal until 0.3 s before the listener closes.
    const running = load(app.url("/"), 300 + delay * 1000 - 300);
    await Bun.sleep(300);
    const signalled = performance.now();
    app.proc.kill("SIGTERM");
    await Bun.sleep(50);
    const ready = await timedGet(app.url("/ready"));
    // In flight when server.stop() runs: must still get its answer.
    await Bun.sleep(Math.max(0, delay * 1000 - 300 - (performance.now() - signalled)));
    const inflight = slowPost("127.0.0.1", app.port, "/kv/inflight", { value: "x".repeat(1000) }, 800);
    const results = await running;
    const slow = await inflight;
    const code = await Promise.race([app.proc.exited, Bun.sleep(10_000).then(() => -1)]);
    const seconds = (performance.now() - signalled) / 1000;

    expect(results.length).toBeGreaterThan(100);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(ready.status).toBe(503);
    expect(slow.status).toBe(200);
    expect(code).toBe(0);
    expect(seconds).toBeLessThan(delay + 2.5);
  });
});
