#!/usr/bin/env bun
// End-to-end suite against a running deployment:
//
//   BASE_URL=http://127.0.0.1:8080 bun run scripts/lib/e2e/run.ts [--context kind-bun-k8s] [--hpa]
//   bun run test:e2e                 (no BASE_URL: scripts/e2e.ts starts the binary and Redis)
//
// Options (each also an env var): --base-url (BASE_URL), --context (KUBE_CONTEXT),
// --namespace (KUBE_NAMESPACE), --only http|cluster|hpa (E2E_ONLY), --hpa (E2E_HPA=1),
// --expect-servers N (E2E_EXPECT_SERVERS), --single-process (E2E_SINGLE_PROCESS=1),
// --require-cluster (E2E_REQUIRE_CLUSTER=1: a missing cluster fails instead of skipping),
// --username/--password (E2E_USERNAME/E2E_PASSWORD, default admin/admin), --verbose.
// Exit code 0 only when nothing failed; the last line is `N passed, N failed, N skipped`.
import { Kube } from "../kube";
import { clusterChecks, hpaChecks } from "./cluster";
import { get } from "./client";
import { formatSummary, runChecks, Skip, type Check, type Context, type Group, type Summary } from "./harness";
import { docsStepChecks } from "./docs-steps";
import { httpChecks } from "./http";

export interface SuiteOptions {
  baseUrl: string;
  context?: string;
  namespace?: string;
  only?: Group;
  hpa: boolean;
  expectServers: number | null;
  singleProcess: boolean;
  requireCluster: boolean;
  username: string;
  password: string;
  verbose: boolean;
  env?: Record<string, string | undefined>;
}

export class UsageError extends Error {}

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v);

export function parseSuiteArgs(argv: string[], env: Record<string, string | undefined> = process.env): SuiteOptions {
  const o: SuiteOptions = {
    baseUrl: env.BASE_URL ?? "",
    context: env.KUBE_CONTEXT || undefined,
    namespace: env.KUBE_NAMESPACE || undefined,
    only: (env.E2E_ONLY || undefined) as Group | undefined,
    hpa: truthy(env.E2E_HPA),
    expectServers: env.E2E_EXPECT_SERVERS ? Number(env.E2E_EXPECT_SERVERS) : null,
    singleProcess: truthy(env.E2E_SINGLE_PROCESS),
    requireCluster: truthy(env.E2E_REQUIRE_CLUSTER),
    username: env.E2E_USERNAME || "admin",
    password: env.E2E_PASSWORD || "admin",
    verbose: truthy(env.E2E_VERBOSE),
    env,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eqAt = arg.indexOf("=");
    const name = arg.startsWith("--") && eqAt !== -1 ? arg.slice(0, eqAt) : arg;
    const value = () => {
      const v = eqAt !== -1 && arg.startsWith("--") ? arg.slice(eqAt + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case "--base-url": o.baseUrl = value(); break;
      case "--context": o.context = value() || undefined; break;
      case "--namespace": o.namespace = value() || undefined; break;
      case "--only": o.only = value() as Group; break;
      case "--hpa": o.hpa = true; break;
      case "--expect-servers": o.expectServers = Number(value()); break;
      case "--single-process": o.singleProcess = true; break;
      case "--require-cluster": o.requireCluster = true; break;
      case "--username": o.username = value(); break;
      case "--password": o.password = value(); break;
      case "--verbose": case "-v": o.verbose = true; break;
      default: throw new UsageError(`unknown argument ${arg}`);
    }
  }
  if (!o.baseUrl) throw new UsageError("BASE_URL (or --base-url) is required, e.g. http://127.0.0.1:8080");
  let url: URL;
  try {
    url = new URL(o.baseUrl);
  } catch {
    throw new UsageError(`BASE_URL ${JSON.stringify(o.baseUrl)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`BASE_URL must be http(s), got ${url.protocol}`);
  if (o.only && !["http", "cluster", "hpa"].includes(o.only)) throw new UsageError(`--only: expected http, cluster or hpa, got ${o.only}`);
  if (o.expectServers !== null && !(Number.isInteger(o.expectServers) && o.expectServers >= 1)) {
    throw new UsageError("--expect-servers: expected a whole number >= 1");
  }
  if (o.only === "hpa") o.hpa = true;
  return o;
}

/** Runs the selected groups; prints one line per check and the summary. Never throws. */
export async function runSuite(options: SuiteOptions, out: (line: string) => void = console.log): Promise<Summary> {
  const started = performance.now();
  const baseUrl = options.baseUrl.replace(/\/+$/, "") + "/";
  const wants = (g: Group) => (options.only ? options.only === g : g !== "hpa" || options.hpa);

  let kube: Kube | null = null;
  let kubeReason: string | null = null;
  if (wants("cluster") || wants("hpa") || (wants("http") && options.expectServers === null && !options.singleProcess)) {
    const candidate = new Kube({ context: options.context, namespace: options.namespace, env: options.env });
    kubeReason = await candidate.unreachableReason();
    if (kubeReason === null) kube = candidate;
  }
  const ctx: Context = {
    baseUrl,
    kube,
    kubeReason,
    expectServers: options.expectServers,
    singleProcess: options.singleProcess,
    username: options.username,
    password: options.password,
    verbose: options.verbose,
    log: (m) => out(`       ${m}`),
  };
  out(`e2e against ${baseUrl} (${kube ? `cluster: context ${await kube.currentContext()}${kube.namespace ? `, namespace ${kube.namespace}` : ""}` : `no cluster: ${kubeReason ?? "not needed"}`})`);

  // Preflight: if nothing answers, say so once instead of failing every check.
  const preflight = await get(baseUrl, "/health", { timeoutMs: 5000 }).catch((err: Error) => err);
  if (preflight instanceof Error) {
    const summary: Summary = { passed: 0, failed: 1, skipped: 0, results: [{ name: "preflight", group: "http", status: "fail", ms: 0, detail: preflight.message }] };
    out(`  FAIL preflight: GET ${baseUrl}health: ${preflight.message}`);
    out(formatSummary(summary, (performance.now() - started) / 1000));
    return summary;
  }

  const needsCluster = (check: Check): Check => ({
    ...check,
    async run(c) {
      if (!c.kube) {
        const reason = `needs kubectl and a reachable cluster: ${c.kubeReason ?? "not checked"}`;
        if (options.requireCluster) throw new Error(`${reason} (--require-cluster)`);
        throw new Skip(reason);
      }
      return check.run(c);
    },
  });
  const checks: Check[] = [
    ...(wants("http") ? [...httpChecks, ...docsStepChecks()] : []),
    ...(wants("cluster") ? clusterChecks.map(needsCluster) : []),
    ...(wants("hpa") ? hpaChecks.map(needsCluster) : []),
  ];
  const summary = await runChecks(checks, ctx, out);
  if (!wants("hpa") && !options.only) out("\n(HPA check not run: add --hpa or E2E_HPA=1; it takes minutes)");
  out(`\n${formatSummary(summary, (performance.now() - started) / 1000)}`);
  return summary;
}

if (import.meta.main) {
  let options: SuiteOptions;
  try {
    options = parseSuiteArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`e2e: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  }
  const summary = await runSuite(options);
  process.exit(summary.failed > 0 || summary.passed === 0 ? 1 : 0);
}
