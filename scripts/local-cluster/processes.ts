// Host daemons of the cluster: started detached (they outlive `cluster:up`), one log file and one
// pid file each, stopped with SIGTERM and, after a grace period, SIGKILL.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PATHS, readPid } from "../lib/local-cluster";

export const logPath = (name: string) => join(PATHS.logs, `${name}.log`);

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie or a recycled pid would also answer signal 0: check it is not a zombie.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

export function running(name: string): number | null {
  const pid = readPid(name);
  return pid !== null && alive(pid) ? pid : null;
}

/** Starts `argv` in its own session with stdout and stderr appended to its log; returns the pid. */
export function startDaemon(name: string, argv: string[], env: Record<string, string> = {}): number {
  const existing = running(name);
  if (existing) return existing;
  mkdirSync(PATHS.logs, { recursive: true });
  mkdirSync(PATHS.pids, { recursive: true });
  const log = openSync(logPath(name), "a");
  const child = spawn(argv[0]!, argv.slice(1), {
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...process.env, ...env },
  });
  closeSync(log);
  if (!child.pid) throw new Error(`${name}: could not start ${argv[0]}`);
  child.unref();
  writeFileSync(join(PATHS.pids, `${name}.pid`), `${child.pid}\n`);
  return child.pid;
}

/** The last lines of a daemon's log, for error messages. */
export function logTail(name: string, lines = 15): string {
  if (!existsSync(logPath(name))) return "(no log)";
  return readFileSync(logPath(name), "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

export async function stopPid(pid: number, graceMs = 10_000) {
  if (!alive(pid)) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await Bun.sleep(100);
  if (alive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
    while (alive(pid)) await Bun.sleep(50);
  }
}

export async function stopDaemon(name: string, graceMs?: number) {
  const pid = readPid(name);
  if (pid !== null) await stopPid(pid, graceMs);
  rmSync(join(PATHS.pids, `${name}.pid`), { force: true });
}

/** Polls `check` until it returns true; throws with `what` and a log tail when `deadlineMs` passes. */
export async function until(what: string, check: () => Promise<boolean> | boolean, deadlineMs: number, daemon?: string) {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (daemon && !running(daemon)) throw new Error(`${daemon} exited while waiting for ${what}:\n${logTail(daemon)}`);
    await Bun.sleep(250);
  }
  throw new Error(`timed out after ${Math.round(deadlineMs / 1000)} s waiting for ${what}${daemon ? `:\n${logTail(daemon)}` : ""}`);
}
