#!/usr/bin/env bun
// `bun run test:cluster`: the tests only a real cluster can answer, on the local cluster.
//
//   1. bun run cluster:up          (build, start, deploy the kind overlay with `task deploy`)
//   2. the e2e suite's http and cluster groups against the NodePort, with nothing skipped
//   3. bun test ./tests/cluster    (the manifests, the Taskfile's tasks, the experiments, the
//      dashboard's cluster view), then every lesson of the guide as written (bun run
//      test:lessons), then the e2e hpa group
//   4. bun run cluster:down        (always, unless --keep)
//
// Needs Linux and root (it runs a kubelet); without them it skips with the reason, except with
// CI=true, where it fails. --reuse: use a cluster that is already up instead of starting one.
import { resolve } from "node:path";
import { missingPrerequisites } from "./local-cluster/cluster";
import { CONTEXT } from "./lib/local-cluster";
import { running } from "./local-cluster/processes";

const ROOT = resolve(import.meta.dir, "..");
const CI = process.env.CI === "true";
const args = new Set(process.argv.slice(2));
const keep = args.has("--keep");
const reuse = args.has("--reuse");
export const CLUSTER_URL = "http://127.0.0.1:30080";

const problems = missingPrerequisites();
if (problems.length) {
  const reason = problems.join("; ");
  if (CI) {
    console.error(`test:cluster FAILED: CI=true but the local cluster cannot run: ${reason}`);
    process.exit(1);
  }
  console.log(`test:cluster skipped: ${reason}`);
  process.exit(0);
}

function run(label: string, argv: string[], env: Record<string, string> = {}): number {
  const t0 = performance.now();
  console.log(`\n=== ${label}: ${argv.join(" ")}`);
  const r = Bun.spawnSync(argv, { cwd: ROOT, stdin: "ignore", stdout: "inherit", stderr: "inherit", env: { ...process.env, ...env } });
  console.log(`=== ${label}: exit ${r.exitCode} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return r.exitCode;
}

const env = { KUBE_CONTEXT: CONTEXT, BUN_K8S_CLUSTER_TESTS: "1", CLUSTER_URL };
let failed = 0;
if (!(reuse && running("kube-apiserver"))) {
  if (run("cluster:up", [process.execPath, "run", "scripts/local-cluster/cluster.ts", "up"]) !== 0) failed++;
}
if (failed === 0) {
  const e2e = (group: string) => [process.execPath, "run", "scripts/e2e.ts", "--only", group, "--require-cluster"];
  // The http group's single-process checks (probe toggles, the docs' HTTP steps) skip here by
  // design: `bun run test:e2e` runs them against one local process.
  if (run("e2e http group through the Service (several replicas, one Redis)", e2e("http"), { ...env, BASE_URL: CLUSTER_URL }) !== 0) failed++;
  if (run("e2e cluster group (nothing skipped)", e2e("cluster"), { ...env, BASE_URL: CLUSTER_URL }) !== 0) failed++;
  if (run("cluster tests", [process.execPath, "test", "--timeout", "600000", "./tests/cluster"], env) !== 0) failed++;
  if (run("the guide's lessons, as written", [process.execPath, "run", "scripts/lessons.ts"]) !== 0) failed++;
  // Last: it leaves the HPA scaled up for minutes (scale-down window), while the cluster tests
  // need room above the current count (the dashboard's HPA check); they end by redeploying.
  if (run("e2e hpa group", e2e("hpa"), { ...env, BASE_URL: CLUSTER_URL }) !== 0) failed++;
}
if (!keep) {
  if (run("cluster:down", [process.execPath, "run", "scripts/local-cluster/cluster.ts", "down"]) !== 0) failed++;
} else {
  console.log(`\n--keep: the cluster stays up (context ${CONTEXT}); bun run cluster:down removes it`);
}
console.log(failed ? `\ntest:cluster FAILED (${failed} step(s))` : "\ntest:cluster passed");
process.exit(failed ? 1 : 0);
