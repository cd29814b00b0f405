// Shared by the cluster tests: they run only under `bun run test:cluster`, which starts the local
// cluster, deploys the kind overlay and sets BUN_K8S_CLUSTER_TESTS=1 and KUBE_CONTEXT.
import { resolve } from "node:path";
import { APP_SELECTOR } from "../../scripts/lib/cluster-settings";
import { Kube } from "../../scripts/lib/kube";

export const ROOT = resolve(import.meta.dir, "../..");
export const ENABLED = process.env.BUN_K8S_CLUSTER_TESTS === "1";
export const SKIP_REASON = "needs the local cluster: run `bun run test:cluster`";
export const CONTEXT = process.env.KUBE_CONTEXT ?? "bun-k8s-local";
export const URL_BASE = process.env.CLUSTER_URL ?? "http://127.0.0.1:30080";
export const kube = new Kube({ context: CONTEXT });

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a command from the repo root with the cluster's context; never throws. */
export function sh(argv: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Run {
  const t0 = performance.now();
  const r = Bun.spawnSync(argv, {
    cwd: ROOT,
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, KUBE_CONTEXT: CONTEXT, ...options.env },
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString(), seconds: (performance.now() - t0) / 1000 };
}

function taskBinary(): string {
  const bin = Bun.which("task") ?? Bun.which("task", { PATH: `${process.env.HOME ?? "/root"}/go/bin` });
  if (!bin) throw new Error("go-task is not installed");
  return bin;
}

/** go-task, as a user runs it. */
export function task(...args: string[]): Run {
  return sh([taskBinary(), ...args], { env: { NO_COLOR: "1" } });
}

/** go-task without blocking the event loop, for a task that runs while a page is being watched. */
export async function taskAsync(...args: string[]): Promise<Run> {
  const t0 = performance.now();
  const proc = Bun.spawn([taskBinary(), ...args], {
    cwd: ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, KUBE_CONTEXT: CONTEXT, NO_COLOR: "1" },
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr, seconds: (performance.now() - t0) / 1000 };
}

export const kubectl = (...args: string[]) => sh(["kubectl", "--context", CONTEXT, ...args]);

/** kubectl without blocking the event loop, for a command that runs while traffic is being sent. */
export async function kubectlAsync(...args: string[]): Promise<Run> {
  const t0 = performance.now();
  const proc = Bun.spawn(["kubectl", "--context", CONTEXT, ...args], { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr, seconds: (performance.now() - t0) / 1000 };
}

/** Polls until `check` is true or `ms` passes; returns the seconds it took. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms: number): Promise<number> {
  const t0 = performance.now();
  let last: unknown;
  while (performance.now() - t0 < ms) {
    try {
      if (await check()) return (performance.now() - t0) / 1000;
    } catch (err) {
      last = err;
    }
    await Bun.sleep(500);
  }
  throw new Error(`timed out after ${ms / 1000} s: ${what}${last ? ` (last error: ${last})` : ""}`);
}

/** Prints a measured figure in a form the README and the closing notes quote. */
export function figure(name: string, value: string) {
  console.log(`figure: ${name}: ${value}`);
}

export interface PodJson {
  metadata: { name: string; deletionTimestamp?: string; labels?: Record<string, string> };
  status: {
    podIP?: string;
    conditions?: Array<{ type: string; status: string }>;
    containerStatuses?: Array<{ name: string; restartCount: number; ready: boolean; lastState?: { terminated?: { reason?: string; exitCode?: number } } }>;
  };
}

/** The pods a label selector picks (the app's by default), as the API server reports them now. */
export const pods = (selector = APP_SELECTOR): PodJson[] =>
  (JSON.parse(kubectl("get", "pods", "-l", selector, "-o", "json").stdout || '{"items":[]}') as { items: PodJson[] }).items;
export const isReady = (p: PodJson) =>
  !p.metadata.deletionTimestamp && p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
/** The app's pods that are Ready and not terminating. */
export const readyPods = () => pods().filter(isReady);

/** Calls a pod directly on its address (the node routes to every pod IP). */
export function onPod(pod: PodJson, path: string, init?: RequestInit) {
  return fetch(`http://${pod.status.podIP}:8000${path}`, { ...init, signal: AbortSignal.timeout(5000) });
}
