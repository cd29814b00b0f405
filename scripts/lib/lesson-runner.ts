// Runs the guide's lessons as written on a real cluster: one bash per lesson (so $POD and
// background jobs carry from block to block, as in a learner's terminal), each command fed in
// turn and its expectation (scripts/lib/lessons.ts) checked on its output and exit status.
//
// Before each lesson the stack is put back as `task deploy` leaves it; after it the runner looks
// for what the lesson left behind (files changed, objects added, nodes cordoned, background
// jobs still running) and fails the lesson for it, since the next learner would trip on it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Socket, TCPSocketListener } from "bun";
import { unmet, type Expectation, type Lesson, type LessonCommand } from "./lessons";
import { ROOT } from "./repo";

export interface CommandResult {
  command: LessonCommand;
  output: string;
  code: number;
  problems: string[];
  attempts: number;
  seconds: number;
}

const DONE = "__LESSON_DONE__";
const DEFAULT_TIMEOUT_MS = 240_000;

/** One bash reading commands from a pipe: the learner's terminal, without a terminal. */
export class LessonShell {
  private proc: ReturnType<typeof Bun.spawn>;
  private buffer = "";
  private waiters: Array<() => void> = [];
  private n = 0;
  private exited = false;
  readonly outDir: string;

  constructor(options: { cwd: string; env: Record<string, string | undefined>; outDir: string }) {
    this.outDir = options.outDir;
    mkdirSync(this.outDir, { recursive: true });
    // setsid: bash leads its own process group, so a timeout or the end of the lesson can stop
    // every process it started, background jobs included.
    this.proc = Bun.spawn(["setsid", "bash", "--noprofile", "--norc", "-s"], {
      cwd: options.cwd,
      env: options.env,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    void this.pump(this.proc.stdout as ReadableStream<Uint8Array>);
    void this.pump(this.proc.stderr as ReadableStream<Uint8Array>);
    void this.proc.exited.then(() => {
      this.exited = true;
      this.wake();
    });
    // A curl whose status is checked writes it after the body; the runner strips it again.
    this.send(`__status_curl() { command curl -w '\\n__HTTP_STATUS__%{http_code}' "$@"; }\n`);
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  private async pump(stream: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      this.buffer += decoder.decode(value, { stream: true });
      this.wake();
    }
  }

  private send(text: string) {
    const sink = this.proc.stdin as import("bun").FileSink;
    sink.write(text);
    sink.flush();
  }

  /** Runs one command in the shell; its output goes to a file, so background jobs' output does too. */
  async run(text: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ output: string; code: number }> {
    const id = ++this.n;
    const file = join(this.outDir, `${id}.out`);
    // `jobs` after each command reaps finished jobs, as an interactive shell does before each
    // prompt; without it a job killed with `kill %1` keeps its number and the next one is %2.
    // After a kill, the moment a person takes to type the next command lets the job exit first.
    const settle = /\bkill\b/.test(text) ? "sleep 0.5; " : "";
    this.send(`{ ${text}\n} </dev/null >'${file}' 2>&1; __rc=$?; ${settle}jobs >/dev/null 2>&1; echo "${DONE} ${id} $__rc"\n`);
    const marker = new RegExp(`${DONE} ${id} (\\d+)\\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = marker.exec(this.buffer);
      if (m) {
        this.buffer = this.buffer.slice(m.index + m[0].length);
        return { output: await Bun.file(file).text(), code: Number(m[1]) };
      }
      if (this.exited) throw new Error(`the lesson's shell exited while running: ${text}\n${this.buffer}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        const partial = await Bun.file(file).text().catch(() => "");
        this.kill();
        throw new Error(`timed out after ${timeoutMs / 1000} s: ${text}\n${partial.slice(-2000)}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** PIDs of the shell's background jobs that are still running. */
  async backgroundJobs(): Promise<number[]> {
    const r = await this.run("jobs -rp");
    return r.output.split("\n").filter(Boolean).map(Number);
  }

  kill() {
    if (this.exited) return;
    try {
      process.kill(-this.proc.pid, "SIGKILL");
    } catch {
      this.proc.kill("SIGKILL");
    }
  }

  async close() {
    this.kill();
    await this.proc.exited;
  }
}

/**
 * The expectation with every `$NAME` in its texts and JSON replaced by the shell's value of it.
 * An empty value is an error: `!"$POD"` would always fail, `"$POD"` always pass.
 */
async function expandVariables(shell: LessonShell, e: Expectation): Promise<Expectation & { unset: string[] }> {
  const names = new Set<string>();
  const collect = (v: unknown) => {
    if (typeof v === "string") for (const m of v.matchAll(/\$([A-Z_][A-Z0-9_]*)/g)) names.add(m[1]!);
    else if (v && typeof v === "object") Object.values(v).forEach(collect);
  };
  [e.contains, e.excludes, e.json].forEach(collect);
  if (names.size === 0) return { ...e, unset: [] };
  const values = new Map<string, string>();
  for (const name of names) values.set(name, (await shell.run(`printf '%s' "$${name}"`)).output);
  const unset = [...values].filter(([, v]) => v === "").map(([n]) => n);
  const expand = (v: unknown): unknown =>
    typeof v === "string"
      ? v.replace(/\$([A-Z_][A-Z0-9_]*)/g, (_, n: string) => values.get(n) ?? "")
      : Array.isArray(v)
        ? v.map(expand)
        : v && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expand(x)]))
          : v;
  return { ...e, contains: e.contains.map((t) => expand(t) as string), excludes: e.excludes.map((t) => expand(t) as string), json: expand(e.json), unset };
}

/** Runs one command with its expectation, retried while `within Ns` allows. */
export async function runCommand(shell: LessonShell, command: LessonCommand): Promise<CommandResult> {
  let e: (Expectation & { unset?: string[] }) | null = command.expect;
  // Only curl's status needs the command changed: the rest runs exactly as the page says.
  const text = e?.status != null ? command.text.replace(/^curl\b/, "__status_curl") : command.text;
  const t0 = performance.now();
  let deadline = 0;
  let attempts = 0;
  for (;;) {
    attempts++;
    const { output, code } = await shell.run(text);
    // `within` counts from the end of the first try: a command may sleep before it looks.
    if (attempts === 1) deadline = Date.now() + (e?.withinSeconds ?? 0) * 1000;
    // After the run: the command may set a variable its own expectation names.
    if (e && attempts === 1) e = await expandVariables(shell, e);
    const problems = [...(e?.unset ?? []).map((n) => `the expectation names $${n}, which is empty in the lesson's shell`), ...unmet(e, { output, code })];
    if (problems.length === 0 || Date.now() >= deadline) {
      return { command, output, code, problems, attempts, seconds: (performance.now() - t0) / 1000 };
    }
    await Bun.sleep(2000);
  }
}

/** Forwards 127.0.0.1:<from> to 127.0.0.1:<to>: kind's host port mapping, for the local cluster. */
export function relay(from: number, to: number): TCPSocketListener<{ peer?: Socket<unknown>; pending: Uint8Array[] }> {
  return Bun.listen<{ peer?: Socket<unknown>; pending: Uint8Array[] }>({
    hostname: "127.0.0.1",
    port: from,
    socket: {
      open(client) {
        client.data = { pending: [] };
        void Bun.connect({
          hostname: "127.0.0.1",
          port: to,
          socket: {
            open(upstream) {
              client.data.peer = upstream;
              for (const chunk of client.data.pending.splice(0)) upstream.write(chunk);
            },
            data(_upstream, chunk) {
              client.write(chunk);
            },
            close() {
              client.end();
            },
            error() {
              client.end();
            },
            connectError() {
              client.end();
            },
          },
        }).catch(() => client.end());
      },
      data(client, chunk) {
        if (client.data.peer) client.data.peer.write(chunk);
        else client.data.pending.push(new Uint8Array(chunk));
      },
      close(client) {
        client.data.peer?.end();
      },
      error(client) {
        client.data.peer?.end();
      },
    },
  });
}

export interface LessonReport {
  lesson: Lesson;
  results: CommandResult[];
  skipped: Array<{ line: number; reason: string }>;
  /** What the lesson left behind. */
  mess: string[];
  error: string | null;
  seconds: number;
}

export const lessonPassed = (r: LessonReport) => r.error === null && r.mess.length === 0 && r.results.every((c) => c.problems.length === 0);

/** Runs every block of a lesson in one shell; stops at the first command whose expectation fails. */
export async function runLesson(
  lesson: Lesson,
  options: { env: Record<string, string | undefined>; outDir: string; log: (line: string) => void; cwd?: string },
): Promise<LessonReport> {
  const t0 = performance.now();
  const report: LessonReport = { lesson, results: [], skipped: [], mess: [], error: null, seconds: 0 };
  const shell = new LessonShell({ cwd: options.cwd ?? ROOT, env: options.env, outDir: options.outDir });
  try {
    outer: for (const block of lesson.blocks) {
      if (block.skip) {
        report.skipped.push({ line: block.line, reason: block.skip });
        options.log(`-- ${lesson.path}:${block.line}: block not run (${block.skip})`);
        continue;
      }
      for (const command of block.commands) {
        options.log(`$ ${command.text}`);
        const result = await runCommand(shell, command);
        report.results.push(result);
        options.log(result.output.trimEnd());
        const took = `${result.seconds.toFixed(1)} s${result.attempts > 1 ? `, ${result.attempts} attempts` : ""}`;
        if (result.problems.length) {
          options.log(`!! ${lesson.path}:${command.line}: ${result.problems.join("; ")} (${took})`);
          break outer;
        }
        options.log(`ok (exit ${result.code}, ${took})`);
      }
    }
    const jobs = await shell.backgroundJobs();
    if (jobs.length) report.mess.push(`${jobs.length} background job(s) still running at the end (pids ${jobs.join(", ")}): stop them with kill %N`);
  } catch (err) {
    report.error = err instanceof Error ? err.message : String(err);
  } finally {
    await shell.close();
  }
  report.seconds = (performance.now() - t0) / 1000;
  writeFileSync(join(options.outDir, "report.json"), JSON.stringify({ ...report, lesson: lesson.path }, null, 2));
  return report;
}
