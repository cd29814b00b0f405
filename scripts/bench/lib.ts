// Shared helpers for `bun run bench` and `bun run drill`: find or build the binary, drive wrk,
// read RSS from /proc (starting and stopping the service: scripts/lib/service.ts).
// Loopback only; every wait is bounded in time.
import { spawn, type Subprocess } from "bun";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

import { ROOT } from "../lib/repo";
import { round } from "../lib/stats";

/** `--binary` when given, else a fresh `bun run build` (dist/bun-k8s), so figures match the source. */
export async function locateBinary(explicit?: string, log: (s: string) => void = () => {}): Promise<string> {
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`binary ${explicit} does not exist`);
    return resolve(explicit);
  }
  log("building dist/bun-k8s (bun run build)");
  const r = Bun.spawnSync([process.execPath, "run", "scripts/build.ts"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`bun run build failed: ${r.stderr.toString()}`);
  return join(ROOT, "dist/bun-k8s");
}

/** VmRSS / VmHWM of a process in MiB, from /proc/<pid>/status. */
export function memory(pid: number): { rssMb: number; hwmMb: number } {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
  return { rssMb: round(kb("VmRSS") / 1024, 1), hwmMb: round(kb("VmHWM") / 1024, 1) };
}

/** Samples RSS every intervalMs until stop() is called. */
export function sampleRss(pid: number, intervalMs = 100) {
  const samples: { t: number; rssMb: number }[] = [];
  const t0 = performance.now();
  const timer = setInterval(() => {
    try {
      samples.push({ t: Math.round(performance.now() - t0), rssMb: memory(pid).rssMb });
    } catch {
      // process gone
    }
  }, intervalMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

export interface WrkResult {
  url: string;
  requests: number;
  seconds: number;
  rps: number;
  latencyMs: { p50: number; p75: number; p90: number; p99: number; max: number };
  non2xx: number;
  errors: { connect: number; read: number; write: number; timeout: number };
  /** Per-status counts when the status-counting Lua script ran. */
  statuses?: Record<string, number>;
}

export const WRK = Bun.which("wrk") ?? "/usr/bin/wrk";
export const STATUS_LUA = join(import.meta.dir, "status.lua");
export const REQUEST_LUA = join(import.meta.dir, "request.lua");

function toMs(value: string, unit: string): number {
  const n = Number(value);
  switch (unit) {
    case "us":
      return n / 1000;
    case "ms":
      return n;
    case "s":
      return n * 1000;
    case "m":
      return n * 60_000;
    default:
      return NaN;
  }
}

export function parseWrk(text: string, url: string): WrkResult {
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(text);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  const maxM = /^\s+Latency\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+)(us|ms|s|m)/m.exec(text);
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(text);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  let statuses: Record<string, number> | undefined;
  const st = /^STATUS (.*)$/m.exec(text);
  if (st) statuses = JSON.parse(st[1]!);
  return {
    url,
    requests: total ? Number(total[1]) : 0,
    seconds: total ? toMs(total[2]!, total[3]!) / 1000 : 0,
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    latencyMs: { p50: pct("50"), p75: pct("75"), p90: pct("90"), p99: pct("99"), max: maxM ? toMs(maxM[1]!, maxM[2]!) : NaN },
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    errors: {
      connect: sock ? Number(sock[1]) : 0,
      read: sock ? Number(sock[2]) : 0,
      write: sock ? Number(sock[3]) : 0,
      timeout: sock ? Number(sock[4]) : 0,
    },
    statuses,
  };
}

export interface WrkOptions {
  url: string;
  seconds: number;
  connections?: number;
  threads?: number;
  timeoutSeconds?: number;
  /** Run the status-counting script (per-status counts in `statuses`). */
  countStatuses?: boolean;
  /** Another method, a body and its Content-Type (scripts/bench/request.lua; not with countStatuses). */
  request?: { method: string; body?: string; contentType?: string };
}

export function wrkArgs(o: WrkOptions): string[] {
  const args = [WRK, "-t", String(o.threads ?? 1), "-c", String(o.connections ?? 50), "-d", `${Math.max(1, Math.round(o.seconds))}s`,
    "--timeout", `${o.timeoutSeconds ?? 5}s`, "--latency"];
  if (o.countStatuses && o.request) throw new Error("wrk runs one script: countStatuses and request exclude each other");
  if (o.countStatuses) args.push("-s", STATUS_LUA);
  if (o.request) args.push("-s", REQUEST_LUA);
  args.push(o.url);
  return args;
}

/** Starts wrk; resolve `.done` for the parsed result. Killed if it overruns by 10 s. */
export function startWrk(o: WrkOptions): { proc: Subprocess; done: Promise<WrkResult> } {
  if (!existsSync(WRK)) throw new Error("wrk is not installed (Debian: apt-get install wrk)");
  const env = o.request
    ? { ...process.env, WRK_METHOD: o.request.method, WRK_BODY: o.request.body ?? "", WRK_CONTENT_TYPE: o.request.contentType ?? "" }
    : process.env;
  const proc = spawn(wrkArgs(o), { stdout: "pipe", stderr: "pipe", stdin: "ignore", env });
  const guard = setTimeout(() => proc.kill("SIGKILL"), (o.seconds + 10) * 1000);
  const done = (async () => {
    const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    const code = await proc.exited;
    clearTimeout(guard);
    if (code !== 0) throw new Error(`wrk exited with ${code}: ${err || out}`);
    return parseWrk(out, o.url);
  })();
  return { proc, done };
}

export const runWrk = (o: WrkOptions) => startWrk(o).done;

export function fileSizeMb(path: string): number {
  return round(statSync(path).size / 1048576, 1);
}

/**
 * The bare compiled Bun.serve binary (scripts/bench/bare.ts) with bun-k8s's build flags, cached
 * under .artifacts/bench/ by the hash of its source and the Bun version.
 */
export function compileBare(log: (s: string) => void = () => {}): string {
  const src = join(import.meta.dir, "bare.ts");
  const key = Bun.hash(readFileSync(src, "utf8") + Bun.version).toString(36);
  const out = join(ROOT, ".artifacts", "bench", `bare-bun-serve-${key}`);
  if (existsSync(out)) return out;
  log("compiling the bare Bun.serve binary (scripts/bench/bare.ts, same flags as bun-k8s)");
  const r = Bun.spawnSync([
    process.execPath, "build", "--compile", "--format=esm", "--minify-whitespace", "--minify-syntax", "--bytecode",
    "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", `--outfile=${out}`, src,
  ], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`compiling ${src} failed: ${r.stderr.toString()}`);
  return out;
}

/** The first line a command prints (versions), or "unknown". */
export function firstLine(command: string[]): string {
  try {
    const r = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe" });
    return (r.stdout.toString() + r.stderr.toString()).split("\n").find((l) => l.trim())?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}
