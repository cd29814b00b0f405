// Runs the service (or any HTTP server) as a real child process on a loopback port, waits until
// it answers 200, and stops it with a signal. One implementation for the tests and for
// scripts/bench.ts, scripts/drill.ts and scripts/e2e.ts; every wait is bounded in time.
import { spawn, type Subprocess } from "bun";
import { closeSync, openSync, readFileSync } from "node:fs";
import { freePort } from "./redis";

export interface ServiceOptions {
  /** What to run, e.g. [process.execPath, "src/main.ts"] or [binary]. */
  command: string[];
  /** The child's whole environment (nothing is inherited; spread process.env to inherit). Undefined values are dropped; PORT is set to the port. */
  env: Record<string, string | undefined>;
  /** Default: a free loopback port. */
  port?: number;
  cwd?: string;
  /** Every path must answer 200 (polled in order, 127.0.0.1). Default "/ready". */
  readyPath?: string | string[];
  /** Default 10 000 ms; on timeout or early exit the child is killed and startService throws. */
  timeoutMs?: number;
  /** Pause between polls. Default 20 ms. */
  intervalMs?: number;
  /** stdout and stderr: "pipe" (collected for output()), "ignore", or appended to a file. Default "pipe". */
  output?: "pipe" | "ignore" | { file: string };
}

export interface Service {
  port: number;
  /** http://127.0.0.1:<port> */
  origin: string;
  url(path?: string): string;
  proc: Subprocess;
  /** ms from spawn to the first 200 on every ready path. */
  readyMs: number;
  /** Sends signal (default SIGTERM), then SIGKILL after graceMs (default 15 s); resolves to the exit code (128 + n for a signal). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number>;
  /** stdout then stderr ("pipe"; waits for both to close), the log file ({ file }), or "" ("ignore"). */
  output(): Promise<string>;
}

async function drain(stream: ReadableStream<Uint8Array> | undefined | number): Promise<string> {
  return stream instanceof ReadableStream ? new Response(stream).text() : "";
}

export async function startService(o: ServiceOptions): Promise<Service> {
  const port = o.port ?? (await freePort());
  const origin = `http://127.0.0.1:${port}`;
  const paths = typeof o.readyPath === "string" ? [o.readyPath] : (o.readyPath ?? ["/ready"]);
  const timeoutMs = o.timeoutMs ?? 10_000;
  const mode = o.output ?? "pipe";
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.env)) if (v !== undefined) env[k] = v;
  env.PORT = String(port);
  const out = mode === "pipe" ? "pipe" : mode === "ignore" ? "ignore" : openSync(mode.file, "a");

  const t0 = performance.now();
  const proc = spawn(o.command, { cwd: o.cwd, env, stdin: "ignore", stdout: out, stderr: out });
  if (typeof out === "number") closeSync(out); // the child has its own copy
  // Read the pipes from the start so a chatty child never blocks on a full pipe.
  const text = mode === "pipe" ? Promise.all([drain(proc.stdout), drain(proc.stderr)]).then(([a, b]) => a + b) : undefined;
  let exitCode: number | null = null;
  void proc.exited.then((c) => (exitCode = c));

  const output = async () => {
    if (text) return text;
    if (typeof mode === "object") return readFileSync(mode.file, "utf8");
    return "";
  };
  const stop = async (signal: NodeJS.Signals = "SIGTERM", graceMs = 15_000) => {
    if (exitCode !== null) return exitCode;
    proc.kill(signal);
    const code = await Promise.race([proc.exited, Bun.sleep(graceMs).then(() => null)]);
    if (code !== null) return code;
    proc.kill("SIGKILL");
    return await proc.exited;
  };
  const fail = async (why: string): Promise<never> => {
    proc.kill("SIGKILL");
    await proc.exited;
    // A grandchild may still hold the pipes: wait for the output only briefly.
    const tail = await Promise.race([output().catch(() => ""), Bun.sleep(1000).then(() => "")]);
    const lines = tail.trimEnd().split("\n").slice(-20).join("\n");
    throw new Error(`${o.command.join(" ")} ${why}${lines ? `\n--- last output ---\n${lines}` : ""}`);
  };

  const deadline = t0 + timeoutMs;
  while (performance.now() < deadline) {
    if (exitCode !== null) return fail(`exited with ${exitCode} before it was ready`);
    let ready = true;
    for (const path of paths) {
      try {
        const res = await fetch(origin + path, { keepalive: false, signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status !== 200) ready = false;
      } catch {
        ready = false; // not listening yet
      }
      if (!ready) break;
    }
    if (ready) {
      const readyMs = performance.now() - t0;
      return { port, origin, url: (path = "") => origin + path, proc, readyMs, stop, output };
    }
    await Bun.sleep(o.intervalMs ?? 20);
  }
  return fail(`did not answer 200 on ${origin}${paths.join(", ")} within ${timeoutMs} ms`);
}
