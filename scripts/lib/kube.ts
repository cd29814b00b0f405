// A thin kubectl wrapper with a fixed context and namespace, shared by scripts/k8s.ts and the
// cluster part of the end-to-end suite. Every call prints nothing unless asked to.
import { findOnPath } from "./prereqs";

export interface KubeOptions {
  /** kubectl context; undefined = the current context. */
  context?: string;
  /** Namespace; undefined = the context's namespace. */
  namespace?: string;
  env?: Record<string, string | undefined>;
  /** Echo each command before running it (the tasks do, the e2e suite does not). */
  echo?: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class KubectlError extends Error {
  constructor(
    readonly args: string[],
    readonly result: RunResult,
  ) {
    super(`kubectl ${args.join(" ")} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = "KubectlError";
  }
}

export class Kube {
  readonly context?: string;
  readonly namespace?: string;
  readonly env: Record<string, string | undefined>;
  readonly echo: boolean;

  constructor(options: KubeOptions = {}) {
    this.context = options.context || undefined;
    this.namespace = options.namespace || undefined;
    this.env = options.env ?? process.env;
    this.echo = options.echo ?? false;
  }

  /** Global flags placed before every kubectl subcommand. */
  flags(namespaced = true): string[] {
    return [
      ...(this.context ? ["--context", this.context] : []),
      ...(namespaced && this.namespace ? ["--namespace", this.namespace] : []),
    ];
  }

  argv(args: string[], namespaced = true): string[] {
    return ["kubectl", ...this.flags(namespaced), ...args];
  }

  /** Runs kubectl and captures its output. */
  async run(args: string[], options: { namespaced?: boolean; stdin?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    const argv = this.argv(args, options.namespaced ?? true);
    if (this.echo) console.error(`$ ${argv.join(" ")}`);
    const proc = Bun.spawn(argv, {
      env: this.env,
      stdin: options.stdin === undefined ? "ignore" : new Blob([options.stdin]),
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = options.timeoutMs ? setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs) : undefined;
    const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    if (timer) clearTimeout(timer);
    return { code, stdout, stderr };
  }

  /** Runs kubectl and returns stdout; throws KubectlError on a non-zero exit. */
  async out(args: string[], options: { namespaced?: boolean; stdin?: string; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.run(args, options);
    if (r.code !== 0) throw new KubectlError(args, r);
    return r.stdout;
  }

  async json<T>(args: string[], options: { namespaced?: boolean; timeoutMs?: number } = {}): Promise<T> {
    return JSON.parse(await this.out([...args, "-o", "json"], options)) as T;
  }

  /** Runs kubectl with the terminal attached (for the tasks); resolves to the exit code. */
  async interactive(args: string[], namespaced = true): Promise<number> {
    const argv = this.argv(args, namespaced);
    console.error(`$ ${argv.join(" ")}`);
    const proc = Bun.spawn(argv, { env: this.env, stdin: "inherit", stdout: "inherit", stderr: "inherit" });
    return proc.exited;
  }

  /**
   * Null when kubectl is installed and the API server answers; else the reason, for skip messages.
   */
  async unreachableReason(timeoutSeconds = 5): Promise<string | null> {
    if (!findOnPath("kubectl", this.env.PATH)) return "kubectl is not installed (not found on PATH)";
    // Without a context kubectl falls back to http://localhost:8080, which may be anything.
    if (!(await this.currentContext())) return "kubectl has no current context (set KUBE_CONTEXT or run `task up`)";
    const r = await this.run(["get", "--raw", "/readyz", `--request-timeout=${timeoutSeconds}s`], {
      namespaced: false,
      timeoutMs: (timeoutSeconds + 5) * 1000,
    });
    if (r.code === 0) return null;
    const ctx = this.context ?? ((await this.run(["config", "current-context"], { namespaced: false })).stdout.trim() || "(no current context)");
    const why = (r.stderr.trim().split("\n").pop() ?? "").slice(0, 300);
    return `no reachable cluster for kubectl context ${ctx}${why ? `: ${why}` : ""}`;
  }

  async currentContext(): Promise<string | null> {
    if (this.context) return this.context;
    const r = await this.run(["config", "current-context"], { namespaced: false });
    return r.code === 0 ? r.stdout.trim() || null : null;
  }

  async contexts(): Promise<string[]> {
    const r = await this.run(["config", "get-contexts", "-o", "name"], { namespaced: false });
    return r.code === 0 ? r.stdout.split("\n").map((s) => s.trim()).filter(Boolean) : [];
  }
}

// ---- shapes of the few objects read back (only the fields used) ------------------------------

export interface PodList {
  items: Pod[];
}

export interface Pod {
  metadata: { name: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    podIP?: string;
    conditions?: Array<{ type: string; status: string }>;
    containerStatuses?: Array<{ name: string; ready: boolean; restartCount: number }>;
  };
}

export interface EndpointSliceList {
  items: Array<{
    endpoints?: Array<{
      addresses: string[];
      conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
      targetRef?: { kind: string; name: string };
    }>;
  }>;
}

export const podReady = (p: Pod) =>
  !p.metadata.deletionTimestamp && (p.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

export const restartCount = (p: Pod, container?: string) =>
  (p.status.containerStatuses ?? []).filter((c) => !container || c.name === container).reduce((n, c) => n + c.restartCount, 0);

/** Pod names routed to by these EndpointSlices: ready (unset means ready) and not terminating. */
export function readyPodsOf(slices: EndpointSliceList): string[] {
  const names = slices.items
    .flatMap((s) => s.endpoints ?? [])
    .filter((e) => e.conditions?.ready !== false && e.conditions?.terminating !== true && e.targetRef?.kind === "Pod")
    .map((e) => e.targetRef!.name);
  return [...new Set(names)].sort();
}

/** The EndpointSlice conditions of `pod` behind `service`, or null when no slice lists it. */
export async function endpointConditionsOf(kube: Kube, service: string, pod: string) {
  const slices = await kube.json<EndpointSliceList>(["get", "endpointslices", "-l", `kubernetes.io/service-name=${service}`]);
  const endpoint = slices.items.flatMap((s) => s.endpoints ?? []).find((e) => e.targetRef?.name === pod);
  return endpoint ? { ready: endpoint.conditions?.ready ?? true, serving: endpoint.conditions?.serving ?? true, terminating: endpoint.conditions?.terminating ?? false } : null;
}

/** Pod names the Service currently routes to (ready endpoints). */
export async function readyEndpointPods(kube: Kube, service: string): Promise<string[]> {
  return readyPodsOf(await kube.json<EndpointSliceList>(["get", "endpointslices", "-l", `kubernetes.io/service-name=${service}`]));
}

/** kubectl's --timeout in seconds: "180s", "3m", "1m30s", "1h" or a bare number; null if not one. */
export function durationSeconds(text: string): number | null {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(t);
  if (!t || !m) return null;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** A CPU quantity ("250m", "0.5", "2", "1234567n", "12u") in millicores; null if not one. */
export function cpuMillicores(quantity: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(n|u|m)?$/.exec(quantity.trim());
  if (!m) return null;
  const scale = { n: 1e-6, u: 1e-3, m: 1 }[m[2] as "n" | "u" | "m"] ?? 1000;
  return Number(m[1]) * scale;
}
