#!/usr/bin/env bun
// `bun run drill`: resilience drills against the compiled binary, with wrk as the load generator.
//
//   bun run drill                        all drills
//   bun run drill --only shutdown,hung   some (shutdown, outage, hung, persistence, storm)
//   bun run drill --binary ./dist/bun-k8s --storm 5000 --out bench/drills-latest.json
//
// Prints a summary per drill and exits 1 when any drill misses its criteria. Loopback only;
// every phase is bounded in time.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { locateBinary, memory, runWrk, sampleRss, startWrk, type WrkResult } from "./bench/lib";
import { startRedis, stopRedis, type RedisProcess } from "./lib/redis";
import { ROOT } from "./lib/repo";
import { round } from "./lib/stats";
import { startService, type Service } from "./lib/service";
import { slowPost, startProbe, timedGet, waitForStatus } from "./lib/probe";
import { runStorm } from "./lib/storm";

const { values: args } = parseArgs({
  options: {
    only: { type: "string" },
    binary: { type: "string" },
    storm: { type: "string", default: "5000" },
    out: { type: "string", default: "bench/drills-latest.json" },
    help: { type: "boolean", default: false },
  },
});
const ALL = ["shutdown", "outage", "hung", "persistence", "storm"] as const;
type DrillName = (typeof ALL)[number];
if (args.help) {
  console.log(`usage: bun run drill [--only ${ALL.join(",")}] [--binary dist/bun-k8s] [--storm 5000] [--out bench/drills-latest.json]`);
  process.exit(0);
}
const selected = (args.only ? args.only.split(",") : [...ALL]) as DrillName[];
for (const s of selected) if (!ALL.includes(s)) throw new Error(`unknown drill ${s}; one of ${ALL.join(", ")}`);
const stormTotal = Math.max(10, Math.min(100_000, Number(args.storm)));
const log = (s: string) => process.stderr.write(s + "\n");
const binary = await locateBinary(args.binary, log);
const logDir = join(ROOT, ".bench");
mkdirSync(logDir, { recursive: true });

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}
interface DrillResult {
  drill: DrillName;
  ok: boolean;
  checks: Check[];
  figures: Record<string, unknown>;
}
const check = (name: string, ok: boolean, detail: string): Check => ({ name, ok, detail });
const statusesOf = (w: WrkResult) => w.statuses ?? {};
const count = (w: WrkResult, status: string) => statusesOf(w)[status] ?? 0;
const socketErrors = (w: WrkResult) => w.errors.connect + w.errors.read + w.errors.write + w.errors.timeout;
const wrkFigures = (w: WrkResult) => ({
  requests: w.requests,
  rps: Math.round(w.rps),
  p50Ms: round(w.latencyMs.p50),
  p99Ms: round(w.latencyMs.p99),
  maxMs: round(w.latencyMs.max),
  statuses: statusesOf(w),
  socketErrors: w.errors,
});

function startApp(name: string, env: Record<string, string>): Promise<Service> {
  return startService({
    command: [binary],
    cwd: ROOT,
    env: { ...process.env, HOST: "127.0.0.1", AUTH_USERS: "drill:drill", LOG_LEVEL: "info", ...env },
    output: { file: join(logDir, `drill-${name}.log`) },
  });
}

// ---------------------------------------------------------------- graceful shutdown under load
async function shutdownDrill(): Promise<DrillResult> {
  const delay = 3;
  const app = await startApp("shutdown", { SHUTDOWN_DELAY_SECONDS: String(delay), SHUTDOWN_TIMEOUT_SECONDS: "10" });
  try {
    await runWrk({ url: app.url("/"), seconds: 1 });
    // Load on / for 1 s before the signal and through the delay, ending 1 s before the listener
    // closes (in Kubernetes the endpoint is gone by then); a slow request is in flight at the close.
    const before = 1;
    const load = startWrk({ url: app.url("/"), seconds: before + delay - 1, connections: 50, countStatuses: true });
    await Bun.sleep(before * 1000);
    const t0 = performance.now();
    app.proc.kill("SIGTERM");
    await Bun.sleep(100);
    const readyDuringDrain = await timedGet(app.url("/ready"));
    const healthDuringDrain = await timedGet(app.url("/health"));
    // Starts 0.5 s before the listener closes and sends the second half of its body 1 s later,
    // so it is in flight when server.stop() runs: it must still get its 200.
    await Bun.sleep(Math.max(0, delay * 1000 - 500 - (performance.now() - t0)));
    const inflight = slowPost("127.0.0.1", app.port, "/kv/inflight", { value: "x".repeat(1000) }, 1000);
    const w = await load.done;
    const slow = await inflight;
    const code = await Promise.race([app.proc.exited, Bun.sleep(20_000).then(() => -1)]);
    const exitSeconds = round((performance.now() - t0) / 1000, 2);
    const failed = socketErrors(w) + w.non2xx;
    const checks = [
      check("zero failed requests under load", failed === 0 && w.requests > 0, `${w.requests} requests, ${w.non2xx} non-2xx, socket errors ${JSON.stringify(w.errors)}`),
      check("readiness 503 while draining", readyDuringDrain.status === 503, `/ready ${readyDuringDrain.status}, /health ${healthDuringDrain.status}`),
      check("in-flight request at close completes", slow.status === 200, `POST /kv/inflight (body sent over 1 s, across the close) -> ${slow.status} in ${slow.ms} ms`),
      check("exit code 0", code === 0, `exit ${code}`),
      check("exit within delay + 2 s", exitSeconds <= delay + 2, `${exitSeconds} s after SIGTERM (SHUTDOWN_DELAY_SECONDS=${delay})`),
    ];
    return {
      drill: "shutdown",
      ok: checks.every((c) => c.ok),
      checks,
      figures: { load: wrkFigures(w), readyDuringDrain: readyDuringDrain.status, inflight: slow, exitCode: code, exitSeconds, shutdownDelaySeconds: delay },
    };
  } finally {
    if (app.proc.exitCode === null) app.proc.kill("SIGKILL");
  }
}

// ---------------------------------------------------------------- Redis outage under load
async function outageDrill(): Promise<DrillResult> {
  const redis = await startRedis();
  const app = await startApp("outage", { REDIS_URL: redis.url, REDIS_KEY_PREFIX: "drill-outage:" });
  try {
    if ((await waitForStatus(app.url("/visits"), 5000)) < 0) throw new Error("/visits never answered 200");
    await runWrk({ url: app.url("/visits"), seconds: 1 });
    const rss = sampleRss(app.proc.pid, 100);
    const health = startProbe(app.url("/health"), 20);
    const before = await runWrk({ url: app.url("/visits"), seconds: 3, countStatuses: true });
    const rssBefore = Math.max(...rss.samples.map((s) => s.rssMb));
    const outageRun = startWrk({ url: app.url("/visits"), seconds: 5, countStatuses: true });
    await Bun.sleep(500);
    const tStop = performance.now();
    await redis.stop("SIGKILL");
    const outage = await outageRun.done;
    const outageSamples = rss.samples.filter((s) => s.t >= 0).map((s) => s.rssMb);
    const rssOutageMax = Math.max(...outageSamples);
    const single = await timedGet(app.url("/visits"));
    const tRestart = performance.now();
    await redis.restart();
    const recoveryMs = await waitForStatus(app.url("/visits"), 15_000, 200, 10);
    const recoveredAfterRedisMs = recoveryMs < 0 ? -1 : round(performance.now() - tRestart, 0);
    const after = await runWrk({ url: app.url("/visits"), seconds: 3, countStatuses: true });
    const h = await health.stop();
    const samples = rss.stop();
    const rssEnd = samples.at(-1)?.rssMb ?? NaN;
    const unexpected = (w: WrkResult, allowed: string[]) =>
      Object.entries(statusesOf(w)).filter(([s]) => !allowed.includes(s)).reduce((n, [, c]) => n + c, 0) + socketErrors(w);
    const checks = [
      check("before: all 200", unexpected(before, ["200"]) === 0 && before.requests > 0, JSON.stringify(statusesOf(before))),
      check("outage: only 200 (before the stop) and 503, no socket errors", unexpected(outage, ["200", "503"]) === 0 && count(outage, "503") > 0, `${JSON.stringify(statusesOf(outage))}, socket ${JSON.stringify(outage.errors)}`),
      check("outage: p99 under 1 s", outage.latencyMs.p99 < 1000, `p99 ${round(outage.latencyMs.p99)} ms, single 503 in ${single.ms} ms (${single.status})`),
      check("/health 200 throughout", h.count > 0 && h.errors === 0 && (h.statuses["200"] ?? 0) === h.count, `${h.count} probes, ${JSON.stringify(h.statuses)}, p99 ${h.p99Ms} ms, max ${h.maxMs} ms`),
      check("memory bounded during outage", rssOutageMax <= rssBefore + 64, `RSS peak before ${rssBefore} MiB, during outage ${rssOutageMax} MiB, end ${rssEnd} MiB`),
      check("recovers without restart", recoveryMs >= 0 && app.proc.exitCode === null, `/visits 200 again ${recoveredAfterRedisMs} ms after redis-server was back`),
      check("after: all 200", unexpected(after, ["200"]) === 0 && after.requests > 0, JSON.stringify(statusesOf(after))),
    ];
    return {
      drill: "outage",
      ok: checks.every((c) => c.ok),
      checks,
      figures: {
        before: wrkFigures(before), outage: wrkFigures(outage), after: wrkFigures(after), health: h,
        redisDownSeconds: round((tRestart - tStop) / 1000, 2), recoveredAfterRedisMs,
        rssMb: { beforePeak: rssBefore, outagePeak: rssOutageMax, end: rssEnd },
      },
    };
  } finally {
    await app.stop("SIGTERM", 15_000);
    await stopRedis(redis);
  }
}

// ---------------------------------------------------------------- Redis hung (SIGSTOP)
async function hungDrill(): Promise<DrillResult> {
  const redis = await startRedis();
  const app = await startApp("hung", { REDIS_URL: redis.url, REDIS_KEY_PREFIX: "drill-hung:" });
  try {
    if ((await waitForStatus(app.url("/visits"), 5000)) < 0) throw new Error("/visits never answered 200");
    const health = startProbe(app.url("/health"), 20);
    const run = startWrk({ url: app.url("/visits"), seconds: 5, connections: 50, countStatuses: true, timeoutSeconds: 10 });
    await Bun.sleep(500);
    redis.pause();
    const tPause = performance.now();
    await Bun.sleep(1500);
    const single = await timedGet(app.url("/visits"));
    const hungHealth = await timedGet(app.url("/health"));
    const hung = await run.done;
    const hungForMs = round(performance.now() - tPause, 0);
    redis.resume();
    const tResume = performance.now();
    const recoveryMs = await waitForStatus(app.url("/visits"), 15_000, 200, 10);
    const after = await runWrk({ url: app.url("/visits"), seconds: 2, countStatuses: true });
    const h = await health.stop();
    const bad = (w: WrkResult, allowed: string[]) =>
      Object.entries(statusesOf(w)).filter(([s]) => !allowed.includes(s)).reduce((n, [, c]) => n + c, 0) + socketErrors(w);
    const checks = [
      check("hung: 503 within about a second", single.status === 503 && single.ms < 1200, `GET /visits while hung -> ${single.status} in ${single.ms} ms`),
      check("hung: load gets 503, p99 under 1.2 s, no socket errors", bad(hung, ["200", "503"]) === 0 && count(hung, "503") > 0 && hung.latencyMs.p99 < 1200, `${JSON.stringify(statusesOf(hung))}, p99 ${round(hung.latencyMs.p99)} ms, max ${round(hung.latencyMs.max)} ms, socket ${JSON.stringify(hung.errors)}`),
      check("/health fast while hung", hungHealth.status === 200 && h.errors === 0 && (h.statuses["200"] ?? 0) === h.count && h.p99Ms < 100, `during: ${hungHealth.ms} ms; probes ${h.count}, ${JSON.stringify(h.statuses)}, p99 ${h.p99Ms} ms, max ${h.maxMs} ms`),
      check("recovers on SIGCONT", recoveryMs >= 0, `/visits 200 again ${recoveryMs} ms after SIGCONT`),
      check("after: all 200", bad(after, ["200"]) === 0 && after.requests > 0, JSON.stringify(statusesOf(after))),
    ];
    return {
      drill: "hung",
      ok: checks.every((c) => c.ok),
      checks,
      figures: { hung: wrkFigures(hung), single, hungForMs, recoveredAfterResumeMs: recoveryMs, after: wrkFigures(after), health: h, resumedAt: round(tResume - tPause, 0) },
    };
  } finally {
    redis.resume();
    await app.stop("SIGTERM", 15_000);
    await stopRedis(redis);
  }
}

// ---------------------------------------------------------------- Redis restart with persistence
async function persistenceDrill(): Promise<DrillResult> {
  const redis: RedisProcess = await startRedis({ appendonly: true });
  const app = await startApp("persistence", { REDIS_URL: redis.url, REDIS_KEY_PREFIX: "drill-aof:" });
  try {
    if ((await waitForStatus(app.url("/visits"), 5000)) < 0) throw new Error("/visits never answered 200");
    const w = await runWrk({ url: app.url("/visits"), seconds: 1, connections: 10, countStatuses: true });
    const beforeRes = await timedGet(app.url("/visits"));
    const before = Number(JSON.parse(beforeRes.body).visits);
    const t0 = performance.now();
    await redis.restart();
    const recoveryMs = await waitForStatus(app.url("/visits"), 15_000, 200, 10);
    const afterRes = await timedGet(app.url("/visits"));
    let after = NaN;
    try {
      after = Number(JSON.parse(afterRes.body).visits);
    } catch {
      // reported below
    }
    const restartMs = round(performance.now() - t0, 0);
    // The recovery poll itself counted one visit.
    const checks = [
      check("count survives restart", after === before + 2, `before restart ${before}, after ${after} (expected ${before + 2}: the recovery poll counts one)`),
      check("recovers without app restart", recoveryMs >= 0 && app.proc.exitCode === null, `/visits 200 ${recoveryMs} ms after redis-server restarted`),
    ];
    return { drill: "persistence", ok: checks.every((c) => c.ok), checks, figures: { loadRequests: w.requests, before, after, recoveryMs, restartMs } };
  } finally {
    await app.stop("SIGTERM", 15_000);
    await stopRedis(redis);
  }
}

// ---------------------------------------------------------------- bad input storm
async function stormDrill(): Promise<DrillResult> {
  const redis = await startRedis();
  const app = await startApp("storm", { REDIS_URL: redis.url, REDIS_KEY_PREFIX: "drill-storm:" });
  try {
    await waitForStatus(app.url("/visits"), 5000);
    await runWrk({ url: app.url("/"), seconds: 1 });
    await Bun.sleep(1000);
    const baseline = memory(app.proc.pid).rssMb;
    const rss = sampleRss(app.proc.pid, 100);
    const r = await runStorm(app.origin, stormTotal, 16);
    const peak = Math.max(...rss.samples.map((s) => s.rssMb), memory(app.proc.pid).rssMb);
    const health = await timedGet(app.url("/health"));
    // Give the GC time to hand memory back (bounded: up to 10 s).
    let settled = memory(app.proc.pid).rssMb;
    for (let i = 0; i < 20 && settled > baseline + 16; i++) {
      await Bun.sleep(500);
      settled = memory(app.proc.pid).rssMb;
    }
    rss.stop();
    const checks = [
      check("zero 5xx", r.fiveXx === 0, `${r.requests} requests in ${r.seconds} s + ${r.rawSent} raw garbage connections: ${JSON.stringify(r.statuses)}`),
      check("no dropped connections", r.networkErrors === 0, `${r.networkErrors} fetch errors`),
      check("process up", app.proc.exitCode === null && health.status === 200, `/health ${health.status} after the storm`),
      check("memory back near baseline", settled <= baseline + 32, `RSS baseline ${baseline} MiB, peak ${peak} MiB, settled ${settled} MiB`),
    ];
    return { drill: "storm", ok: checks.every((c) => c.ok), checks, figures: { ...r, rssMb: { baseline, peak, settled } } };
  } finally {
    await app.stop("SIGTERM", 15_000);
    await stopRedis(redis);
  }
}

const drills: Record<DrillName, () => Promise<DrillResult>> = {
  shutdown: shutdownDrill,
  outage: outageDrill,
  hung: hungDrill,
  persistence: persistenceDrill,
  storm: stormDrill,
};

const results: DrillResult[] = [];
for (const name of selected) {
  log(`drill ${name} ...`);
  let r: DrillResult;
  try {
    r = await drills[name]();
  } catch (err) {
    r = { drill: name, ok: false, checks: [check("ran to completion", false, err instanceof Error ? err.stack ?? err.message : String(err))], figures: {} };
  }
  results.push(r);
  console.log(`\n${r.ok ? "PASS" : "FAIL"} ${name}`);
  for (const c of r.checks) console.log(`  ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
}
const out = resolve(ROOT, args.out!);
mkdirSync(dirname(out), { recursive: true });
// Relative to the repository, so the record names no machine path.
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), binary: relative(ROOT, binary) || binary, results }, null, 2) + "\n");
const failed = results.filter((r) => !r.ok).map((r) => r.drill);
console.log(`\n${results.length - failed.length}/${results.length} drills passed${failed.length ? `; failed: ${failed.join(", ")}` : ""} (figures in ${out.startsWith(ROOT + "/") ? out.slice(ROOT.length + 1) : out})`);
process.exit(failed.length ? 1 : 0);
