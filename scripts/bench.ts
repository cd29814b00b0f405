#!/usr/bin/env bun
// `bun run bench`: bun-k8s (the compiled binary, default settings) side by side with raw
// Bun.serve (scripts/bench/ceiling.ts: same JSON bodies, same Redis client) and podinfo (the Go
// workload, pinned, built once with `go install`: scripts/bench/podinfo.ts) on this machine.
//
//   bun run bench                          5 interleaved rounds of 5 s per route and server
//   bun run bench --rounds 3 --seconds 3   quicker
//   bun run bench --routes /,/health       only these rows (names as in ROWS below, method optional)
//   bun run bench --binary ./dist/bun-k8s --out bench/latest.json --check
//
// wrk is the load generator (a separate process, -t1 -c50 --latency). For every round and row
// the servers are measured back to back, the order rotating between rounds; the table shows
// medians across rounds and the ratio of the medians, with the min and median of the per-round
// ratios. Start-up: spawn to the first 200, median of --starts runs, for bun-k8s, a bare compiled
// Bun.serve binary (scripts/bench/bare.ts) and podinfo. Memory: VmRSS 1 s after start (idle), and
// VmHWM of a fresh process under --load-connections (64) on every row. /metrics: answer time
// with the series a client can create. Results go to bench/latest.json and the chart to
// bench/latest.svg (both committed). `--check` exits 1 when a target is missed. Loopback only.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ROUTES } from "../src/app";
import { DEFAULTS_MAX_AGE_MS } from "../src/metrics";
import { compileBare, fileSizeMb, firstLine, locateBinary, memory, runWrk, sampleRss, WRK, type WrkOptions, type WrkResult } from "./bench/lib";
import { ensurePodinfo, podinfoArgs } from "./bench/podinfo";
import { renderBenchChart, type ChartInput } from "./lib/bench-chart";
import { freePort, startRedis, stopRedis } from "./lib/redis";
import { gitRevision, ROOT } from "./lib/repo";
import { startService, type Service } from "./lib/service";
import { median, percentile, round } from "./lib/stats";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "50" },
    "load-connections": { type: "string", default: "64" },
    "load-seconds": { type: "string", default: "5" },
    starts: { type: "string", default: "9" },
    scrapes: { type: "string", default: "40" },
    routes: { type: "string", default: "" },
    binary: { type: "string" },
    out: { type: "string", default: "bench/latest.json" },
    env: { type: "string", multiple: true, default: [] },
    "no-podinfo": { type: "boolean", default: false },
    chart: { type: "string" },
    check: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log(
    "usage: bun run bench [--rounds 5] [--seconds 5] [--warmup 2] [--connections 50] [--starts 9]\n" +
      "                     [--load-connections 64] [--load-seconds 5] [--scrapes 40] [--routes /,/health,...]\n" +
      "                     [--binary dist/bun-k8s] [--out bench/latest.json] [--env KEY=VALUE ...] [--no-podinfo] [--check]\n" +
      "       bun run bench --chart bench/latest.json    redraw bench/latest.svg from a result, measuring nothing",
  );
  process.exit(0);
}
// Before minutes of building: the load generator and Redis must be here.
if (!args.chart) {
  for (const [tool, found] of [["wrk", existsSync(WRK)], ["redis-server", Bun.which("redis-server") !== null]] as const) {
    if (found) continue;
    console.error(`bench: ${tool} is not installed (Debian: apt-get install ${tool})`);
    process.exit(1);
  }
}
/** The chart of a result (bench/latest.json): req/s by row and peer, start-up and RSS panels. */
// `any`: the result's shape is the JSON this script writes below.
function chartInput(r: any): ChartInput {
  const podinfoRan = r.settings.podinfo !== "skipped";
  const m = r.machine;
  return {
    title: `bun-k8s ${r.revision} vs raw Bun.serve vs podinfo ${podinfoRan ? m.podinfo : "(skipped)"}`,
    subtitle: `${r.settings.rounds} interleaved rounds x ${r.settings.secondsPerRun} s, wrk -t1 -c${r.settings.connections} on the same machine; ${m.cpus} cores (${m.model}), load average ${m.loadAverage.start[0]} at start, ${m.loadAverage.end[0]} at end; bun ${m.bun}${podinfoRan ? `, ${String(m.go).replace(/^go version /, "")}` : ""}`,
    peers: PEERS.filter((p) => p !== "podinfo" || podinfoRan),
    routes: r.routes.map((t: any) => {
      const other = t.paths.podinfo && t.paths.podinfo !== t.paths["bun-k8s"] ? `podinfo: ${t.paths.podinfo}` : undefined;
      return { label: t.route, sublabel: other, values: Object.fromEntries(Object.entries(t.peers).map(([p, x]: [string, any]) => [p, x.rps])) };
    }),
    panels: [
      { title: "start-up, spawn to first 200", unit: "ms", values: { "bun-k8s": r.startup["bun-k8s"].medianMs, "Bun.serve": r.startup.bare.medianMs, podinfo: r.startup.podinfo?.medianMs } },
      { title: "idle RSS", unit: "MiB", values: { "bun-k8s": r.memory.idleRssMb["bun-k8s"], "Bun.serve": r.memory.idleRssMb.bare, podinfo: r.memory.idleRssMb.podinfo } },
      { title: `peak RSS, ${r.settings.loadConnections} connections`, unit: "MiB", values: { "bun-k8s": r.memory.underLoad["bun-k8s"]?.peakRssMb, podinfo: r.memory.underLoad.podinfo?.peakRssMb } },
    ],
    notes: [
      "Bun.serve: raw Bun.serve with the same bodies and Redis client (req/s), and a bare compiled Bun.serve binary (start-up, idle RSS).",
      ...(podinfoRan ? [] : [String(m.podinfo)]),
      `Figures: bench/latest.json (${r.date}).`,
    ],
  };
}
const clamp = (v: string | undefined, lo: number, hi: number) => Math.max(lo, Math.min(hi, Number(v)));
const rounds = clamp(args.rounds, 1, 50);
const seconds = clamp(args.seconds, 1, 60);
const warmup = clamp(args.warmup, 0, 30);
const connections = clamp(args.connections, 1, 1000);
const loadConnections = clamp(args["load-connections"], 1, 1000);
const loadSeconds = clamp(args["load-seconds"], 1, 60);
const starts = clamp(args.starts, 1, 50);
const scrapes = clamp(args.scrapes, 10, 5000);
// Scrapes this far apart each get a fresh reading of bun-k8s's process defaults, as Prometheus does.
const scrapeGapMs = DEFAULTS_MAX_AGE_MS + 10;
const extraEnv = Object.fromEntries(args.env!.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));

const TARGETS = { vsCeiling: 0.95, startupVsBare: 1.5, idleRssVsBare: 1.5, metricsSeries: 1000, metricsMs: 5, coldStartMs: 50, idleRssMb: 60 };
const log = (s: string) => process.stderr.write(s + "\n");

// ---------------------------------------------------------------- what is compared
type Peer = "bun-k8s" | "Bun.serve" | "podinfo";
const PEERS: Peer[] = ["bun-k8s", "Bun.serve", "podinfo"];
interface Target {
  path: string;
  request?: WrkOptions["request"];
}
const ECHO = { method: "POST", body: '{"message":"hello from wrk"}', contentType: "application/json" };
const KV_KEY = "bench-key";
const KV_VALUE = "hello from the bench";
/** Equivalent routes: bun-k8s's path, raw Bun.serve's (three rows) and podinfo's (six rows). */
const ROWS: { name: string; peers: Partial<Record<Peer, Target>> }[] = [
  { name: "GET /", peers: { "bun-k8s": { path: "/" }, "Bun.serve": { path: "/" } } },
  { name: "GET /health", peers: { "bun-k8s": { path: "/health" }, "Bun.serve": { path: "/health" }, podinfo: { path: "/healthz" } } },
  { name: "GET /ready", peers: { "bun-k8s": { path: "/ready" }, podinfo: { path: "/readyz" } } },
  { name: "GET /version", peers: { "bun-k8s": { path: "/version" }, podinfo: { path: "/version" } } },
  // podinfo echoes the body alone; so does ?format=text (the default JSON form also describes the headers).
  { name: "POST /echo", peers: { "bun-k8s": { path: "/echo?format=text", request: ECHO }, podinfo: { path: "/api/echo", request: ECHO } } },
  { name: "GET /kv/:key", peers: { "bun-k8s": { path: `/kv/${KV_KEY}` }, podinfo: { path: `/cache/${KV_KEY}` } } },
  { name: "GET /metrics", peers: { "bun-k8s": { path: "/metrics" }, podinfo: { path: "/metrics" } } },
  { name: "GET /visits", peers: { "bun-k8s": { path: "/visits" }, "Bun.serve": { path: "/visits" } } },
];
const wanted = args.routes!.split(",").filter(Boolean);
const rows = ROWS.filter((r) => wanted.length === 0 || wanted.some((w) => r.name === w || r.name.split(" ")[1] === w));
if (rows.length === 0) throw new Error(`--routes ${args.routes}: no such row (rows: ${ROWS.map((r) => r.name).join(", ")})`);

if (args.chart) {
  const file = resolve(ROOT, args.chart);
  const svg = file.replace(/\.json$/, "") + ".svg";
  writeFileSync(svg, renderBenchChart(chartInput(await Bun.file(file).json())));
  console.log(`written to ${svg.startsWith(ROOT + "/") ? svg.slice(ROOT.length + 1) : svg}`);
  process.exit(0);
}

const loadAvg = () => loadavg().map((n) => round(n, 2));
const loadAtStart = loadAvg();
const binary = await locateBinary(args.binary, log);
const bare = compileBare(log);
const podinfo = args["no-podinfo"] ? ({ ok: false, reason: "--no-podinfo: podinfo rows skipped" } as const) : ensurePodinfo(log);
if (!podinfo.ok) log(podinfo.reason);
const peers = PEERS.filter((p) => p !== "podinfo" || podinfo.ok);
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
// Each starter polls its ready path every ~1 ms: start-up is spawn to the first 200 (readyMs).
const starters: Record<Peer | "bare", (log: string) => Promise<Service>> = {
  "bun-k8s": (file) => startService({ command: [binary], cwd: ROOT, env: appEnv, intervalMs: 1, output: { file: join(logDir, file) } }),
  "Bun.serve": (file) =>
    startService({
      command: [process.execPath, "scripts/bench/ceiling.ts"],
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: redis.url, REDIS_KEY_PREFIX: "ceiling:" },
      intervalMs: 1,
      output: { file: join(logDir, file) },
    }),
  bare: (file) => startService({ command: [bare], cwd: ROOT, env: { PATH: process.env.PATH }, intervalMs: 1, output: { file: join(logDir, file) } }),
  podinfo: async (file) => {
    if (!podinfo.ok) throw new Error(podinfo.reason);
    const port = await freePort();
    return startService({
      command: [podinfo.path, ...podinfoArgs(port, redis.url)],
      port,
      cwd: logDir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      readyPath: "/readyz",
      intervalMs: 1,
      output: { file: join(logDir, file) },
    });
  },
};

/** Every row's target answers 2xx (kv keys written first); throws otherwise. */
async function prepare(peer: Peer, server: Service) {
  if (peer === "bun-k8s") {
    // The store connects after the listener is up: 503 until then (at most 5 s).
    const deadline = performance.now() + 5000;
    for (;;) {
      const r = await fetch(server.url(`/kv/${KV_KEY}`), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ value: KV_VALUE }) });
      const text = await r.text();
      if (r.status === 200) break;
      if (r.status !== 503 || performance.now() > deadline) throw new Error(`bun-k8s POST /kv/${KV_KEY} answered ${r.status}: ${text}`);
      await Bun.sleep(20);
    }
  }
  if (peer === "podinfo") {
    const r = await fetch(server.url(`/cache/${KV_KEY}`), { method: "POST", body: KV_VALUE });
    if (r.status !== 202) throw new Error(`podinfo POST /cache/${KV_KEY} answered ${r.status}: ${await r.text()}`);
  }
  for (const row of rows) {
    const t = row.peers[peer];
    if (!t) continue;
    const res = await fetch(server.url(t.path), t.request ? { method: t.request.method, body: t.request.body, headers: { "content-type": t.request.contentType ?? "" } } : {});
    const body = await res.text();
    if (res.status < 200 || res.status > 299) throw new Error(`${peer} ${t.request?.method ?? "GET"} ${t.path} answered ${res.status}: ${body.slice(0, 200)}`);
  }
}

const wrkFor = (server: Service, t: Target, secs: number, conns = connections) =>
  runWrk({ url: server.url(t.path), seconds: secs, connections: conns, request: t.request });
const failures = (r: WrkResult) => r.non2xx + r.errors.read + r.errors.write + r.errors.timeout + r.errors.connect;

const running: Service[] = [];
const track = (s: Service) => (running.push(s), s);
const stop = async (s: Service) => {
  if (running.includes(s)) running.splice(running.indexOf(s), 1);
  await s.stop("SIGTERM", 10_000);
};

try {
  // ---------------------------------------------------------------- start-up (interleaved)
  type StartPeer = "bun-k8s" | "bare" | "podinfo";
  const startPeers: StartPeer[] = podinfo.ok ? ["bun-k8s", "bare", "podinfo"] : ["bun-k8s", "bare"];
  log(`binary ${binary} (${fileSizeMb(binary)} MiB), bare ${fileSizeMb(bare)} MiB; start-up x${starts} each (${startPeers.join(", ")})`);
  const startMs: Record<StartPeer, number[]> = { "bun-k8s": [], bare: [], podinfo: [] };
  for (let i = 0; i < starts; i++) {
    for (const p of startPeers) {
      const s = track(await starters[p](`start-${p}.log`));
      startMs[p].push(round(s.readyMs, 1));
      await stop(s);
      await Bun.sleep(100);
    }
  }
  const startup = Object.fromEntries(
    startPeers.map((p) => {
      const xs = startMs[p];
      return [p, { medianMs: round(median(xs), 1), minMs: Math.min(...xs), maxMs: Math.max(...xs), runs: xs }];
    }),
  ) as Record<StartPeer, { medianMs: number; minMs: number; maxMs: number; runs: number[] }>;
  log(startPeers.map((p) => `start-up ${p} ${startup[p].medianMs} ms`).join(", "));

  // ---------------------------------------------------------------- servers under test; idle RSS
  const servers = {} as Record<Peer, Service>;
  for (const p of peers) servers[p] = track(await starters[p](`${p}.log`));
  const bareIdle = track(await starters.bare("bare.log"));
  await Bun.sleep(1000);
  const idle = Object.fromEntries([...peers.map((p) => [p, memory(servers[p].proc.pid).rssMb]), ["bare", memory(bareIdle.proc.pid).rssMb]]) as Record<Peer | "bare", number>;
  await stop(bareIdle);
  log(`idle RSS (1 s after start): ${Object.entries(idle).map(([k, v]) => `${k} ${v} MiB`).join(", ")}`);

  for (const p of peers) await prepare(p, servers[p]);
  for (const row of rows) {
    for (const p of peers) {
      const t = row.peers[p];
      if (t && warmup > 0) await wrkFor(servers[p], t, warmup);
    }
  }

  // ---------------------------------------------------------------- interleaved rounds
  const runs: Record<string, Partial<Record<Peer, WrkResult[]>>> = {};
  for (const row of rows) runs[row.name] = Object.fromEntries(peers.filter((p) => row.peers[p]).map((p) => [p, []]));
  for (let r = 0; r < rounds; r++) {
    for (const row of rows) {
      const here = peers.filter((p) => row.peers[p]);
      const order = here.map((_, i) => here[(i + r) % here.length]!);
      for (const p of order) {
        const res = await wrkFor(servers[p], row.peers[p]!, seconds);
        runs[row.name]![p]!.push(res);
        const bad = failures(res);
        log(`round ${r + 1}/${rounds} ${row.name.padEnd(14)} ${p.padEnd(9)} ${Math.round(res.rps).toString().padStart(7)} req/s  p99 ${res.latencyMs.p99.toFixed(2)} ms${bad ? `  ERRORS ${bad}` : ""}`);
      }
    }
  }
  const afterRounds = Object.fromEntries(peers.map((p) => [p, memory(servers[p].proc.pid)]));
  for (const p of peers) await stop(servers[p]);

  // ---------------------------------------------------------------- RSS under load (fresh processes)
  const loaded: Record<string, { idleRssMb: number; peakRssMb: number; rssAfterMb: number; byRoute: Record<string, number> }> = {};
  for (const p of peers.filter((x) => x !== "Bun.serve")) {
    const s = track(await starters[p](`load-${p}.log`));
    await prepare(p, s);
    await Bun.sleep(1000);
    const before = memory(s.proc.pid).rssMb;
    const byRoute: Record<string, number> = {};
    for (const row of rows) {
      const t = row.peers[p];
      if (!t) continue;
      const sampler = sampleRss(s.proc.pid, 50);
      const res = await wrkFor(s, t, loadSeconds, loadConnections);
      const samples = sampler.stop();
      byRoute[row.name] = Math.max(...samples.map((x) => x.rssMb), memory(s.proc.pid).rssMb);
      log(`load -c${loadConnections} ${p.padEnd(8)} ${row.name.padEnd(14)} ${Math.round(res.rps)} req/s, RSS up to ${byRoute[row.name]} MiB${failures(res) ? `  ERRORS ${failures(res)}` : ""}`);
    }
    const peak = memory(s.proc.pid).hwmMb;
    await Bun.sleep(2000);
    loaded[p] = { idleRssMb: before, peakRssMb: peak, rssAfterMb: memory(s.proc.pid).rssMb, byRoute };
    await stop(s);
  }

  // ---------------------------------------------------------------- /metrics answer time by series
  // Series are label sets of http_requests_total and http_request_duration_seconds (method x route
  // template x status; unknown methods are OTHER, /status/:code is by class, MAX_SERIES caps them)
  // plus prom-client's defaults. One label set is 18 samples (a counter, 14 buckets, +Inf, sum,
  // count). A client creates them by calling routes with methods and inputs that answer
  // differently; these requests do that with no side effect on the process.
  const seriesRequests: { method: string; path: string }[] = [];
  const fill = (path: string) => path.replace(":key", "series-probe").replace(":seconds", "x").replace(":code", "200");
  const unsafe = new Set(["POST /crash", "GET /stress", "GET /stress/memory", "POST /health/disable", "POST /ready/disable", "POST /faults/enable", "GET /metrics"]);
  for (const route of Object.values(ROUTES).flat()) {
    const [method, path] = route.split(" ") as [string, string];
    if (method === "WS" || unsafe.has(route)) continue;
    seriesRequests.push({ method, path: fill(path) });
    if (method === "GET") seriesRequests.push({ method: "HEAD", path: fill(path) });
  }
  for (const code of ["302", "404", "503"]) seriesRequests.push({ method: "GET", path: `/status/${code}` }, { method: "POST", path: `/status/${code}` });
  for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"]) seriesRequests.push({ method, path: "/no-such-route" });
  seriesRequests.push({ method: "GET", path: "/kv/%00" }, { method: "GET", path: "/stress?seconds=x" }, { method: "GET", path: "/stress/memory?mb=x" });

  const timeScrapes = async (s: Service, path = "/metrics") => {
    const ms: number[] = [];
    let body = "";
    for (let i = 0; i < scrapes; i++) {
      await Bun.sleep(scrapeGapMs);
      const t0 = performance.now();
      // identity: podinfo gzips for clients that accept it (fetch does); this times the answer itself.
      const res = await fetch(s.url(path), { headers: { "accept-encoding": "identity" } });
      body = await res.text();
      ms.push(performance.now() - t0);
    }
    const samples = body.split("\n").filter((l) => l && !l.startsWith("#")).length;
    return { series: samples, bytes: body.length, medianMs: round(median(ms), 3), p99Ms: round(percentile(ms, 99), 3), maxMs: round(Math.max(...ms), 3) };
  };
  const countSeries = async (s: Service) => (await (await fetch(s.url("/metrics"))).text()).split("\n").filter((l) => l && !l.startsWith("#")).length;
  const scrape: { peer: Peer; series: number; labelSets?: number; bytes: number; medianMs: number; p99Ms: number; maxMs: number }[] = [];
  {
    const s = track(await starters["bun-k8s"]("metrics.log"));
    const labelSets = async () => (await (await fetch(s.url("/metrics"))).text()).split("\n").filter((l) => l.startsWith("http_requests_total{")).length;
    scrape.push({ peer: "bun-k8s", ...(await timeScrapes(s)), labelSets: await labelSets() });
    let i = 0;
    const send = async (n: number) => {
      for (const end = Math.min(seriesRequests.length, i + n); i < end; i++) {
        const r = seriesRequests[i]!;
        await (await fetch(s.url(r.path), { method: r.method, body: ["GET", "HEAD"].includes(r.method) ? undefined : "{}", headers: { "content-type": "application/json" } })).arrayBuffer();
      }
    };
    while (i < seriesRequests.length && (await countSeries(s)) < TARGETS.metricsSeries) await send(4);
    scrape.push({ peer: "bun-k8s", ...(await timeScrapes(s)), labelSets: await labelSets() });
    await send(seriesRequests.length);
    scrape.push({ peer: "bun-k8s", ...(await timeScrapes(s)), labelSets: await labelSets() });
    await stop(s);
  }
  if (podinfo.ok) {
    const s = track(await starters.podinfo("metrics-podinfo.log"));
    scrape.push({ peer: "podinfo", ...(await timeScrapes(s)) });
    await stop(s);
  }
  for (const x of scrape) log(`/metrics ${x.peer}: ${x.series} series${x.labelSets ? ` (${x.labelSets} HTTP label sets)` : ""}, ${x.bytes} bytes: median ${x.medianMs} ms, p99 ${x.p99Ms} ms`);

  // ---------------------------------------------------------------- summary
  const summarize = (xs: WrkResult[]) => ({
    rps: Math.round(median(xs.map((x) => x.rps))),
    rpsMin: Math.round(Math.min(...xs.map((x) => x.rps))),
    rpsMax: Math.round(Math.max(...xs.map((x) => x.rps))),
    p99Ms: round(median(xs.map((x) => x.latencyMs.p99))),
    p50Ms: round(median(xs.map((x) => x.latencyMs.p50))),
    errors: xs.reduce((n, x) => n + failures(x), 0),
  });
  const ratioOf = (a: WrkResult[], b: WrkResult[]) => {
    const perRound = a.map((x, i) => x.rps / b[i]!.rps);
    return {
      ofMedians: round(median(a.map((x) => x.rps)) / median(b.map((x) => x.rps)), 3),
      perRound: { min: round(Math.min(...perRound), 3), median: round(median(perRound), 3), max: round(Math.max(...perRound), 3), runs: perRound.map((x) => round(x, 3)) },
    };
  };
  const table = rows.map((row) => {
    const r = runs[row.name]!;
    const a = r["bun-k8s"]!;
    return {
      route: row.name,
      paths: Object.fromEntries(peers.filter((p) => row.peers[p]).map((p) => [p, `${row.peers[p]!.request?.method ?? "GET"} ${row.peers[p]!.path}`])),
      peers: Object.fromEntries(Object.entries(r).map(([p, xs]) => [p, summarize(xs!)])) as Partial<Record<Peer, ReturnType<typeof summarize>>>,
      vsBunServe: r["Bun.serve"] ? ratioOf(a, r["Bun.serve"]) : undefined,
      vsPodinfo: r.podinfo ? ratioOf(a, r.podinfo) : undefined,
    };
  });

  const targets: Record<string, { value: number | string; target: string; met: boolean }> = {};
  for (const t of table) {
    if (t.vsBunServe) targets[`${t.route} vs Bun.serve, every round`] = { value: t.vsBunServe.perRound.min, target: `>= ${TARGETS.vsCeiling} (lowest per-round ratio)`, met: t.vsBunServe.perRound.min >= TARGETS.vsCeiling };
    if (t.vsPodinfo) {
      const a = t.peers["bun-k8s"]!;
      const b = t.peers.podinfo!;
      targets[`${t.route} req/s vs podinfo`] = { value: t.vsPodinfo.ofMedians, target: ">= 1 (ratio of medians)", met: t.vsPodinfo.ofMedians >= 1 };
      targets[`${t.route} p99 vs podinfo`] = { value: `${a.p99Ms} vs ${b.p99Ms} ms`, target: "bun-k8s p99 <= podinfo p99", met: a.p99Ms <= b.p99Ms };
    }
  }
  const startRatio = round(startup["bun-k8s"].medianMs / startup.bare.medianMs, 2);
  const rssRatio = round(idle["bun-k8s"] / idle.bare, 2);
  targets["start-up vs bare Bun.serve binary"] = { value: `${startRatio}x (${startup["bun-k8s"].medianMs} vs ${startup.bare.medianMs} ms)`, target: `<= ${TARGETS.startupVsBare}x`, met: startRatio <= TARGETS.startupVsBare };
  targets["idle RSS vs bare Bun.serve binary"] = { value: `${rssRatio}x (${idle["bun-k8s"]} vs ${idle.bare} MiB)`, target: `<= ${TARGETS.idleRssVsBare}x`, met: rssRatio <= TARGETS.idleRssVsBare };
  const at1000 = scrape.find((x) => x.peer === "bun-k8s" && x.series >= TARGETS.metricsSeries);
  targets[`/metrics with ${TARGETS.metricsSeries} series`] = at1000
    ? { value: `median ${at1000.medianMs} ms, p99 ${at1000.p99Ms} ms (${at1000.series} series)`, target: `< ${TARGETS.metricsMs} ms (median)`, met: at1000.medianMs < TARGETS.metricsMs }
    : { value: "not reached", target: `< ${TARGETS.metricsMs} ms`, met: false };
  targets["start-up ms"] = { value: startup["bun-k8s"].medianMs, target: `< ${TARGETS.coldStartMs}`, met: startup["bun-k8s"].medianMs < TARGETS.coldStartMs };
  targets["idle RSS MiB"] = { value: idle["bun-k8s"], target: `< ${TARGETS.idleRssMb}`, met: idle["bun-k8s"] < TARGETS.idleRssMb };

  const loadAtEnd = loadAvg();
  const result = {
    date: new Date().toISOString(),
    revision: gitRevision() || "unknown",
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? "unknown",
      kernel: release(),
      loadAverage: { start: loadAtStart, end: loadAtEnd, note: "1, 5 and 15 minute load averages when the bench started and ended" },
      bun: Bun.version,
      go: podinfo.ok ? podinfo.go : "not used",
      podinfo: podinfo.ok ? firstLine([podinfo.path, "--version"]) : podinfo.reason,
      wrk: firstLine(["wrk", "-v"]),
      redis: firstLine(["redis-server", "--version"]),
    },
    settings: {
      rounds, secondsPerRun: seconds, warmupSeconds: warmup, connections, loadConnections, loadSecondsPerRoute: loadSeconds, starts, scrapes, scrapeGapMs,
      wrkThreads: 1, loadGenerator: "wrk on the same machine",
      appEnv: { LOG_LEVEL: "info", METRICS_ENABLED: "true (default)", ...extraEnv },
      podinfo: podinfo.ok ? `${podinfo.version}, ${podinfoArgs(0, redis.url).join(" ").replace(/--port 0 /, "").replace(/127\.0\.0\.1:\d+/, "127.0.0.1:<port>")}` : "skipped",
      redis: "local redis-server, no persistence, shared by all peers",
    },
    binaries: { "bun-k8s": { path: binary.startsWith(ROOT) ? binary.slice(ROOT.length + 1) : binary, sizeMb: fileSizeMb(binary) }, bare: { path: "scripts/bench/bare.ts (compiled)", sizeMb: fileSizeMb(bare) }, ...(podinfo.ok ? { podinfo: { sizeMb: fileSizeMb(podinfo.path) } } : {}) },
    startup,
    memory: {
      idleRssMb: idle,
      underLoad: loaded,
      afterRounds: Object.fromEntries(Object.entries(afterRounds).map(([p, m]) => [p, { rssMb: m.rssMb, peakRssMb: m.hwmMb }])),
      note: "idle: VmRSS 1 s after start; underLoad: a fresh process, wrk -c" + loadConnections + " for " + loadSeconds + " s on each of its rows, peakRssMb is VmHWM; afterRounds: the processes of the rounds (-c" + connections + ")",
    },
    metricsScrape: scrape,
    routes: table,
    targets,
  };

  const out = resolve(ROOT, args.out!);
  const chartOut = out.replace(/\.json$/, "") + ".svg";
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
  writeFileSync(chartOut, renderBenchChart(chartInput(result)));

  // ---------------------------------------------------------------- table
  const cell = (s?: ReturnType<typeof summarize>) => (s ? `${s.rps} (${s.rpsMin}-${s.rpsMax}) | ${s.p99Ms}` : "- | -");
  const ratio = (x?: ReturnType<typeof ratioOf>) => (x ? `${x.ofMedians} (min ${x.perRound.min}, median ${x.perRound.median})` : "-");
  const lines = [
    "",
    `bun-k8s vs raw Bun.serve vs podinfo, ${rounds} rounds x ${seconds} s, wrk -t1 -c${connections}, ${cpus().length} CPUs, bun ${Bun.version}, load average ${loadAtStart.join(" ")} -> ${loadAtEnd.join(" ")}`,
    "",
    "| route | bun-k8s req/s | p99 ms | Bun.serve req/s | p99 ms | podinfo req/s | p99 ms | vs Bun.serve (per round) | vs podinfo (per round) |",
    "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ...table.map((t) => `| ${t.route} | ${cell(t.peers["bun-k8s"])} | ${cell(t.peers["Bun.serve"])} | ${cell(t.peers.podinfo)} | ${ratio(t.vsBunServe)} | ${ratio(t.vsPodinfo)} |`),
    "",
    `start-up (spawn to first 200, median of ${starts}): ${Object.entries(startup).map(([p, s]) => `${p} ${s.medianMs} ms (${s.minMs}-${s.maxMs})`).join(", ")}`,
    `idle RSS: ${Object.entries(idle).map(([p, v]) => `${p} ${v} MiB`).join(", ")}`,
    `under -c${loadConnections}: ${Object.entries(loaded).map(([p, m]) => `${p} peak ${m.peakRssMb} MiB (idle ${m.idleRssMb}, 2 s after ${m.rssAfterMb})`).join(", ")}`,
    `/metrics: ${scrape.map((x) => `${x.peer} ${x.series} series median ${x.medianMs} ms p99 ${x.p99Ms} ms`).join("; ")}`,
    "",
    "targets:",
    ...Object.entries(targets).map(([k, v]) => `  ${v.met ? "met   " : "MISSED"} ${k}: ${v.value} (target ${v.target})`),
    "",
    `written to ${[out, chartOut].map((f) => (f.startsWith(ROOT + "/") ? f.slice(ROOT.length + 1) : f)).join(" and ")}`,
  ];
  console.log(lines.join("\n"));
  const errors = table.reduce((n, t) => n + Object.values(t.peers).reduce((m, s) => m + s!.errors, 0), 0);
  if (errors > 0) log(`WARNING: ${errors} failed or non-2xx responses during the benchmark`);
  process.exitCode = args.check && (Object.values(targets).some((t) => !t.met) || errors > 0) ? 1 : 0;
} finally {
  for (const s of [...running]) await s.stop("SIGTERM", 10_000).catch(() => {});
  await stopRedis(redis);
}
