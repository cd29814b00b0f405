// Small helpers shared by the cluster build: running commands, hashing, atomic writes, timing.
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Feed this to stdin. */
  input?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; throws with its output on a non-zero exit unless allowFail. */
export async function run(cmd: string[], options: RunOptions & { allowFail?: boolean } = {}): Promise<RunResult> {
  const proc = Bun.spawn(cmd, {
    cwd: options.cwd,
    env: { ...process.env, LC_ALL: "C", ...options.env } as Record<string, string>,
    stdin: options.input === undefined ? "ignore" : new TextEncoder().encode(options.input),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0 && !options.allowFail) {
    const tail = (stderr + stdout).trimEnd().split("\n").slice(-60).join("\n");
    throw new Error(`${cmd.join(" ")} failed (exit ${code})${options.cwd ? ` in ${options.cwd}` : ""}:\n${tail}`);
  }
  return { code, stdout, stderr };
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** sha256 of a file, read in chunks (the binaries are up to ~100 MB). */
export function sha256File(path: string): string {
  const hash = createHash("sha256");
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/** Writes via a temp file and rename, so readers never see half a file. */
export function writeFileAtomic(path: string, data: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** A fresh, empty scratch directory under parent, named after purpose and this process. */
export function scratchDir(parent: string, purpose: string): string {
  const dir = join(parent, `${purpose}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Unmounts whatever is mounted under dir (deepest first), then removes it. */
export function removeTree(dir: string): void {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) Bun.spawnSync(["umount", "-l", m]);
  rmSync(dir, { recursive: true, force: true });
}

/** Removes scratch directories (named <purpose>-<pid>) left under parent by processes that died. */
export function removeStaleScratch(parent: string): void {
  if (!existsSync(parent)) return;
  for (const name of readdirSync(parent)) {
    const pid = Number(/-(\d+)$/.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid)) removeTree(join(parent, name));
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** One line per built or reused artifact, collected for the CLI's summary. */
export interface Step {
  what: string;
  action: "built" | "reused" | "imported" | "present";
  ms: number;
}

export const steps: Step[] = [];

export function log(line: string): void {
  console.error(`[cluster-build] ${line}`);
}

export function record(step: Step): void {
  steps.push(step);
  log(`${step.action} ${step.what}${step.action === "built" || step.action === "imported" ? ` in ${seconds(step.ms)}` : ""}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Runs fn while holding the lock `name` under lockDir, so two builds started at once (say the
 * cluster bring-up and a manual run) do not compile the same target twice: the second waits,
 * then finds the first one's result. A lock whose holder died is taken over.
 */
export async function withLock<T>(lockDir: string, name: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(lockDir, { recursive: true });
  const lock = join(lockDir, `${name}.lock`);
  let waited = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(lock, "pid"), "utf8"));
      } catch {
        // being created or removed right now
      }
      if (Number.isInteger(holder) && holder > 0 && !alive(holder)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!waited) log(`waiting for ${name}: another build (pid ${holder}) holds ${lock}`);
      waited = true;
      await Bun.sleep(1000);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
