// A small check runner for the end-to-end suite: named checks in groups, each passes, fails or
// is skipped with a reason; a summary line `N passed, N failed, N skipped` at the end.
// Standalone (not `bun test`) so it runs against any URL and reports its own counts.
import type { Kube } from "../kube";

export type Group = "http" | "cluster" | "hpa";

export interface Context {
  baseUrl: string;
  /** Null when no cluster is reachable; `kubeReason` says why. */
  kube: Kube | null;
  kubeReason: string | null;
  /** How many distinct `server` values to expect; null = decide from the cluster, else at least 1. */
  expectServers: number | null;
  /** One local process: the suite may toggle its probes (never through a shared Service). */
  singleProcess: boolean;
  username: string;
  password: string;
  verbose: boolean;
  log(message: string): void;
}

export interface Check {
  name: string;
  group: Group;
  run(ctx: Context): Promise<string | void>;
}

/** Thrown by a check to be counted as skipped, with the reason printed. */
export class Skip extends Error {
  override name = "Skip";
}

export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function eq<T>(actual: T, expected: T, what: string) {
  if (!Bun.deepEquals(actual, expected)) {
    throw new AssertionError(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

type Kind = "string" | "number" | "boolean" | "object" | "array" | "null" | "string|null" | "number|null";

/** Checks that `value` is an object with (at least) the given keys of the given kinds. */
export function shape(value: unknown, spec: Record<string, Kind>, what: string): Record<string, unknown> {
  assert(value !== null && typeof value === "object" && !Array.isArray(value), `${what}: expected a JSON object, got ${JSON.stringify(value)}`);
  const obj = value as Record<string, unknown>;
  for (const [key, kind] of Object.entries(spec)) {
    const v = obj[key];
    const actual = v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
    assert(kind.split("|").includes(actual), `${what}: .${key} should be ${kind}, got ${actual} (${JSON.stringify(v)?.slice(0, 80)})`);
  }
  return obj;
}

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  results: Array<{ name: string; group: Group; status: "pass" | "fail" | "skip"; ms: number; detail?: string }>;
}

export function formatSummary(s: Summary, seconds: number): string {
  return `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped (${seconds.toFixed(1)}s)`;
}

/** Runs checks one after another (they share one deployment); never throws. */
export async function runChecks(checks: Check[], ctx: Context, out: (line: string) => void = console.log): Promise<Summary> {
  const summary: Summary = { passed: 0, failed: 0, skipped: 0, results: [] };
  let group: Group | null = null;
  for (const check of checks) {
    if (check.group !== group) {
      group = check.group;
      out(`\n[${group}]`);
    }
    const started = performance.now();
    try {
      const note = await check.run(ctx);
      const ms = Math.round(performance.now() - started);
      summary.passed++;
      summary.results.push({ name: check.name, group: check.group, status: "pass", ms, detail: note || undefined });
      out(`  PASS ${check.name} (${ms} ms)${note ? `\n       ${note}` : ""}`);
    } catch (err) {
      const ms = Math.round(performance.now() - started);
      if (err instanceof Skip) {
        summary.skipped++;
        summary.results.push({ name: check.name, group: check.group, status: "skip", ms, detail: err.message });
        out(`  SKIP ${check.name}: ${err.message}`);
      } else {
        summary.failed++;
        const detail = err instanceof AssertionError ? err.message : err instanceof Error ? (ctx.verbose ? err.stack ?? err.message : err.message) : String(err);
        summary.results.push({ name: check.name, group: check.group, status: "fail", ms, detail });
        out(`  FAIL ${check.name} (${ms} ms)\n       ${detail.replaceAll("\n", "\n       ")}`);
      }
    }
  }
  return summary;
}
