#!/usr/bin/env bun
// `bun run bench`: bun-k8s (the compiled binary, default settings) against the runtime's ceiling
// (scripts/bench/ceiling.ts: plain Bun.serve, same JSON bodies, same Redis client) on this machine.
//
//   bun run bench                          5 interleaved rounds of 5 s per route and server
//   bun run bench --rounds 3 --seconds 3   quicker
//   bun run bench --binary ./dist/bun-k8s --out bench/latest.json --check
//
// wrk is the load generator (a separate process, -t1 -c50 --latency). For every round and route
// both servers are measured back to back, the order alternating between rounds; the table shows
// medians across rounds and the ratio of the medians (min-max of the per-round ratios in brackets).
// Cold start: spawn to the first 200 on /ready, median of --starts runs. Memory: VmRSS idle,
// VmHWM (peak) after all load. Results go to bench/latest.json (committed, for comparisons).
// `--check` exits 1 when a target is missed. Loopback only.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, release } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileSizeMb, locateBinary, memory, runWrk, type WrkResult } from "./bench/lib";
import { startRedis, stopRedis } from "./lib/redis";
import { gitRevision, ROOT } from "./lib/repo";
import { startService, type Service } from "./lib/service";
import { median, round } from "./lib/stats";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "50" },
    starts: { type: "string", default: "9" },
    routes: { type: "string", default: "/,/health,/visits" },
    binary: { type: "string" },
    out: { type: "string", default: "bench/latest.json" },
    env: { type: "string", multiple: true, default: [] },
    check: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log(
    "usage: bun run bench [--rounds 5] [--seconds 5] [--warmup 2] [--connections 50] [--starts 9]\n" +
      "                     [--routes /,/health,/visits] [--binary dist/bun-k8s] [--out bench/latest.json]\n" +
      "                     [--env KEY=VALUE ...] [--check]",
  );
  process.exit(0);
}
const rounds = Math.max(1, Math.min(50, Number(args.rounds)));
const seconds = Math.max(1, Math.min(60, Number(args.seconds)));
const warmup = Math.max(0, Math.min(30, Number(args.warmup)));
const connections = Math.max(1, Math.min(1000, Number(args.connections)));
const starts = Math.max(1, Math.min(50, Number(args.starts)));
const routes = args.routes!.split(",").filter(Boolean);
const extraEnv = Object.fromEntries(args.env!.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));

const TARGETS = { ratio: 0.8, coldStartMs: 50, idleRssMb: 60 };
const log = (s: string) => process.stderr.write(s + "\n");

const binary = await locateBinary(args.binary, log);
const redis = await startRedis();
const logDir = join(ROOT, ".bench");
mkdirSync(logDir, { recursive: true });

// The inherited env plus these; startService sets PORT.
const appEnv = {
  ...process.env,
  HOST: "127.0.0.1",
  REDIS_URL: redis.url,
  REDIS_KEY_PREFIX: "bench:",
  LOG_LEVEL: "info",
  AUTH_USERS: "bench:bench",
  ...extraEnv,
};
// Polls /ready every ~1 ms: the cold-start figure is spawn to the first 200 (readyMs).
const startApp = (log: string) =>
  startService({ command: [binary], cwd: ROOT, env: appEnv, intervalMs: 1, output: { file: join(logDir, log) } });

let app: Service | undefined;
let ceiling: Service | undefined;
try {
  // ---------------------------------------------------------------- cold start
  log(`binary ${binary} (${fileSizeMb(binary)} MiB); cold start x${starts}`);
  const coldMs: number[] = [];
  const coldRss: number[] = [];
  for (let i = 0; i < starts; i++) {
    const p = await startApp("cold.log");
    coldMs.push(round(p.readyMs, 1));
    coldRss.push(memory(p.proc.pid).rssMb);
    await p.stop("SIGTERM", 10_000);
    await Bun.sleep(100);
  }

  // ---------------------------------------------------------------- servers under test
  app = await startApp("app.log");
  ceiling = await startService({
    command: [process.execPath, "scripts/bench/ceiling.ts"],
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: redis.url, REDIS_KEY_PREFIX: "ceiling:" },
    intervalMs: 1,
    output: { file: join(logDir, "ceiling.log") },
  });
  await Bun.sleep(1000);
  const idle = memory(app.proc.pid);
  log(`idle RSS bun-k8s ${idle.rssMb} MiB; ceiling ${memory(ceiling.proc.pid).rssMb} MiB`);

  const servers = { "bun-k8s": app, ceiling } as const;
  type Name = keyof typeof servers;
  for (const route of routes) {
    for (const name of Object.keys(servers) as Name[]) {
      const url = servers[name].url(route);
      const probe = await fetch(url);
      await probe.arrayBuffer();
      if (probe.status !== 200) throw new Error(`${name} ${route} answered ${probe.status}`);
      if (warmup > 0) await runWrk({ url, seconds: warmup, connections });
    }
  }

  const runs: Record<string, Record<Name, WrkResult[]>> = {};
  for (const route of routes) runs[route] = { "bun-k8s": [], ceiling: [] };
  for (let r = 0; r < rounds; r++) {
    const order: Name[] = r % 2 === 0 ? ["bun-k8s", "ceiling"] : ["ceiling", "bun-k8s"];
    for (const route of routes) {
      for (const name of order) {
        const res = await runWrk({ url: servers[name].url(route), seconds, connections });
        runs[route]![name].push(res);
        const bad = res.non2xx + res.errors.read + res.errors.write + res.errors.timeout + res.errors.connect;
        log(`round ${r + 1}/${rounds} ${route.padEnd(8)} ${name.padEnd(8)} ${Math.round(res.rps).toString().padStart(7)} req/s  p99 ${res.latencyMs.p99.toFixed(2)} ms${bad ? `  ERRORS ${bad}` : ""}`);
      }
    }
  }
  const peak = memory(app.proc.pid);
  await Bun.sleep(2000);
  const afterLoad = memory(app.proc.pid);

  // ---------------------------------------------------------------- summary
  const summarize = (xs: WrkResult[]) => ({
    rps: Math.round(median(xs.map((x) => x.rps))),
    rpsMin: Math.round(Math.min(...xs.map((x) => x.rps))),
    rpsMax: Math.round(Math.max(...xs.map((x) => x.rps))),
    p99Ms: round(median(xs.map((x) => x.latencyMs.p99))),
    p50Ms: round(median(xs.map((x) => x.latencyMs.p50))),
    errors: xs.reduce((n, x) => n + x.non2xx + x.errors.connect + x.errors.read + x.errors.write + x.errors.timeout, 0),
  });
  const table = routes.map((route) => {
    const a = runs[route]!["bun-k8s"];
    const c = runs[route]!.ceiling;
    const perRound = a.map((x, i) => x.rps / c[i]!.rps);
    const app = summarize(a);
    const ceil = summarize(c);
    return {
      route,
      app,
      ceiling: ceil,
      ratio: round(app.rps / ceil.rps, 3),
      ratioPerRound: { median: round(median(perRound), 3), min: round(Math.min(...perRound), 3), max: round(Math.max(...perRound), 3) },
    };
  });

  const cold = { medianMs: round(median(coldMs), 1), minMs: Math.min(...coldMs), maxMs: Math.max(...coldMs), runs: coldMs };
  const targets = {
    ...Object.fromEntries(table.map((t) => [`ratio ${t.route}`, { value: t.ratio, target: `>= ${TARGETS.ratio}`, met: t.ratio >= TARGETS.ratio }])),
    "cold start ms": { value: cold.medianMs, target: `< ${TARGETS.coldStartMs}`, met: cold.medianMs < TARGETS.coldStartMs },
    "idle RSS MiB": { value: idle.rssMb, target: `< ${TARGETS.idleRssMb}`, met: idle.rssMb < TARGETS.idleRssMb },
  };
  const gitRev = gitRevision();
  const wrkVersion = Bun.spawnSync(["wrk", "-v"], { stdout: "pipe", stderr: "pipe" });
  const result = {
    date: new Date().toISOString(),
    revision: gitRev || "unknown",
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", kernel: release(), bun: Bun.version, wrk: (wrkVersion.stdout.toString() + wrkVersion.stderr.toString()).split("\n")[0]!.trim() },
    settings: { rounds, secondsPerRun: seconds, warmupSeconds: warmup, connections, wrkThreads: 1, loadGenerator: "wrk on the same machine", appEnv: { LOG_LEVEL: "info", METRICS_ENABLED: "true (default)", ...extraEnv }, redis: "local redis-server, no persistence" },
    binary: { path: binary.startsWith(ROOT) ? binary.slice(ROOT.length + 1) : binary, sizeMb: fileSizeMb(binary) },
    coldStart: cold,
    memory: { idleRssMb: idle.rssMb, coldStartRssMb: round(median(coldRss), 1), peakRssMb: peak.hwmMb, rssAfterLoadMb: afterLoad.rssMb },
    routes: table,
    targets,
  };

  const out = resolve(ROOT, args.out!);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + "\n");

  // ---------------------------------------------------------------- table
  const lines = [
    "",
    `bun-k8s vs raw Bun.serve, ${rounds} rounds x ${seconds} s, wrk -t1 -c${connections}, ${cpus().length} CPUs, bun ${Bun.version}`,
    "",
    "| route | bun-k8s req/s | p99 ms | Bun.serve req/s | p99 ms | ratio (per-round min-max) |",
    "|---|---:|---:|---:|---:|---|",
    ...table.map((t) =>
      `| GET ${t.route} | ${t.app.rps} (${t.app.rpsMin}-${t.app.rpsMax}) | ${t.app.p99Ms} | ${t.ceiling.rps} (${t.ceiling.rpsMin}-${t.ceiling.rpsMax}) | ${t.ceiling.p99Ms} | ${t.ratio} (${t.ratioPerRound.min}-${t.ratioPerRound.max}) |`),
    "",
    `cold start (spawn to first 200 on /ready): median ${cold.medianMs} ms (min ${cold.minMs}, max ${cold.maxMs}, n=${coldMs.length})`,
    `RSS: idle ${idle.rssMb} MiB, peak under load ${peak.hwmMb} MiB, 2 s after load ${afterLoad.rssMb} MiB`,
    `binary: ${result.binary.sizeMb} MiB`,
    "",
    "targets:",
    ...Object.entries(targets).map(([k, v]) => `  ${v.met ? "met   " : "MISSED"} ${k}: ${v.value} (target ${v.target})`),
    "",
    `written to ${out.startsWith(ROOT + "/") ? out.slice(ROOT.length + 1) : out}`,
  ];
  console.log(lines.join("\n"));
  const errors = table.reduce((n, t) => n + t.app.errors + t.ceiling.errors, 0);
  if (errors > 0) log(`WARNING: ${errors} failed or non-2xx responses during the benchmark`);
  process.exitCode = args.check && (Object.values(targets).some((t) => !t.met) || errors > 0) ? 1 : 0;
} finally {
  if (app) await app.stop("SIGTERM", 10_000);
  if (ceiling) await ceiling.stop("SIGTERM", 5_000);
  await stopRedis(redis);
}
