// The state every lesson starts from ("the stack as `task deploy` leaves it"), how to see what a
// lesson left behind, and how to put it back. Used by scripts/lessons.ts between lessons.
import { APP_DEPLOYMENT, APP_HPA, APP_SELECTOR, REDIS_DEPLOYMENT } from "./cluster-settings";
import { waitFor } from "./e2e/client";
import { cpuMillicores, Kube, podReady, restartCount, type Pod, type PodList } from "./kube";

/** Kinds whose extra objects are a lesson's leftovers, not side effects a learner is told to expect. */
const LEFTOVER_KINDS = [
  "deployments.apps",
  "statefulsets.apps",
  "daemonsets.apps",
  "jobs.batch",
  "services",
  "persistentvolumeclaims",
  "networkpolicies.networking.k8s.io",
  "poddisruptionbudgets.policy",
  "horizontalpodautoscalers.autoscaling",
  "ingresses.networking.k8s.io",
];
/** Generated ConfigMaps and Secrets: an edited generator leaves its old name behind by design. */
const GENERATED_KINDS = ["configmaps", "secrets"];

export interface StackSnapshot {
  objects: Set<string>;
  generated: Set<string>;
  /** Pods that no controller owns (kubectl run): always leftovers. */
  barePods: string[];
  cordoned: string[];
  /** The app Deployment's pod template, without the restart annotation `task restart` adds. */
  appTemplate: string;
  /** `git status --porcelain` lines. */
  files: Set<string>;
}

async function names(kube: Kube, kinds: string[], selector?: string): Promise<Set<string>> {
  const out = await kube.out(["get", kinds.join(","), "-o", "name", ...(selector ? ["-l", selector] : [])]);
  return new Set(out.split("\n").filter(Boolean));
}

function gitStatus(tree: string): Set<string> {
  const r = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=all"], { cwd: tree, stdout: "pipe" });
  return new Set(r.stdout.toString().split("\n").filter(Boolean));
}

async function appTemplate(kube: Kube): Promise<string> {
  const d = await kube.json<{ spec: { template: { metadata?: { annotations?: Record<string, string> } } } }>(["get", `deployment/${APP_DEPLOYMENT}`]);
  const t = structuredClone(d.spec.template);
  delete t.metadata?.annotations?.["kubectl.kubernetes.io/restartedAt"];
  return JSON.stringify(t);
}

/** The cluster's state and the files of `tree`, the checkout the lessons run in. */
export async function snapshot(kube: Kube, tree: string): Promise<StackSnapshot> {
  const pods = await kube.json<{ items: Array<Pod & { metadata: { ownerReferences?: unknown[] } }> }>(["get", "pods"]);
  const nodes = await kube.json<{ items: Array<{ metadata: { name: string }; spec: { unschedulable?: boolean } }> }>(["get", "nodes"], { namespaced: false });
  return {
    objects: await names(kube, LEFTOVER_KINDS),
    generated: await names(kube, GENERATED_KINDS, "app.kubernetes.io/part-of=bun-k8s"),
    barePods: pods.items.filter((p) => !p.metadata.ownerReferences?.length).map((p) => p.metadata.name),
    cordoned: nodes.items.filter((n) => n.spec.unschedulable).map((n) => n.metadata.name),
    appTemplate: await appTemplate(kube),
    files: gitStatus(tree),
  };
}

/** What `after` has that the starting state did not: the lesson's mess, one line each. */
export function leftovers(before: StackSnapshot, after: StackSnapshot): string[] {
  const mess: string[] = [];
  for (const o of after.objects) if (!before.objects.has(o)) mess.push(`${o} is still there`);
  for (const o of before.objects) if (!after.objects.has(o)) mess.push(`${o} was deleted`);
  for (const p of after.barePods) if (!before.barePods.includes(p)) mess.push(`pod/${p} (no controller) is still there`);
  for (const n of after.cordoned) if (!before.cordoned.includes(n)) mess.push(`node/${n} is still cordoned`);
  if (after.appTemplate !== before.appTemplate) mess.push(`deployment/${APP_DEPLOYMENT}'s pod template differs from the files (kubectl set/edit not undone)`);
  for (const f of after.files) if (!before.files.has(f)) mess.push(`file change not undone: ${f}`);
  return mess;
}

/**
 * Puts the stack back as `task deploy` leaves it: the files, the overlay applied with the last
 * image, a fresh HPA at its minimum, pods without restarts, nothing extra, every node schedulable,
 * and the app answering through the Service and reaching Redis.
 */
export async function resetStack(
  kube: Kube,
  start: StackSnapshot,
  options: { tree: string; appUrl: string; deploy: () => Promise<void>; log: (line: string) => void },
): Promise<void> {
  const now = await snapshot(kube, options.tree);
  const restore = [...now.files].filter((f) => !start.files.has(f) && /^ M /.test(f)).map((f) => f.slice(3));
  if (restore.length) Bun.spawnSync(["git", "checkout", "--", ...restore], { cwd: options.tree });
  for (const n of now.cordoned) if (!start.cordoned.includes(n)) await kube.out(["uncordon", n], { namespaced: false });
  const extra = [...now.objects].filter((o) => !start.objects.has(o));
  extra.push(...now.barePods.filter((p) => !start.barePods.includes(p)).map((p) => `pod/${p}`));
  extra.push(...[...now.generated].filter((o) => !start.generated.has(o)));
  if (extra.length) await kube.out(["delete", "--wait=true", "--ignore-not-found", ...extra]);
  // A changed template (kubectl set env ...) survives `kubectl apply`'s merge; a new Deployment does not.
  if (now.appTemplate !== start.appTemplate) await kube.out(["delete", `deployment/${APP_DEPLOYMENT}`, "--wait=true"]);
  // A fresh HPA has no scale-down history to act on, so the count the lesson left goes away now.
  // It must not see the lesson's load either: metrics-server reports CPU use of the last window,
  // so right after /stress a new HPA would scale straight back up.
  const target = await cpuTarget(kube);
  await kube.out(["delete", `hpa/${APP_HPA}`, "--ignore-not-found"]);
  if (target !== null) await waitForIdleCpu(kube, target, options.log);
  await options.deploy();
  const hpa = await kube.json<{ spec: { minReplicas?: number } }>(["get", `hpa/${APP_HPA}`]);
  const min = hpa.spec.minReplicas ?? 1;
  await kube.out(["scale", `deployment/${APP_DEPLOYMENT}`, `--replicas=${min}`]);
  const pods = (await kube.json<PodList>(["get", "pods", "-l", APP_SELECTOR])).items.filter((p) => !p.metadata.deletionTimestamp);
  if (pods.some((p) => restartCount(p) > 0)) {
    options.log("reset: app pods have restarts: rolling restart for fresh ones");
    await kube.out(["rollout", "restart", `deployment/${APP_DEPLOYMENT}`]);
  }
  for (const d of [APP_DEPLOYMENT, REDIS_DEPLOYMENT]) await kube.out(["rollout", "status", `deployment/${d}`, "--timeout=180s"], { timeoutMs: 200_000 });
  await waitFor(
    async () => {
      const list = (await kube.json<PodList>(["get", "pods", "-l", APP_SELECTOR])).items;
      return list.length === min && list.every(podReady);
    },
    120_000,
    `reset: no ${min} ready app pods and no others`,
  );
  // A new pod reaches the NetworkPolicy's ipsets a moment after it is ready.
  // A new connection each time: a kept-alive one may lead to a pod that is gone.
  const answers = async () => (await fetch(`${options.appUrl}/visits/count`, { headers: { connection: "close" }, signal: AbortSignal.timeout(2000) })).ok;
  await waitFor(answers, 120_000, `reset: ${options.appUrl}/visits/count did not answer 200`);
}

type Hpa = { spec: { metrics?: Array<{ resource?: { name: string; target: { averageUtilization?: number } } }> } };

/** The HPA's CPU target in percent of requests, or null when there is no HPA or no CPU target. */
async function cpuTarget(kube: Kube): Promise<number | null> {
  const r = await kube.run(["get", `hpa/${APP_HPA}`, "-o", "json"]);
  if (r.code !== 0) return null;
  const hpa = JSON.parse(r.stdout) as Hpa;
  return hpa.spec.metrics?.find((m) => m.resource?.name === "cpu")?.resource?.target.averageUtilization ?? null;
}

type PodMetricsList = { items: Array<{ metadata: { name: string }; containers: Array<{ usage: { cpu: string } }> }> };
type PodRequests = { items: Array<{ metadata: { name: string }; spec: { containers: Array<{ resources?: { requests?: { cpu?: string } } }> } }> };

/** The app pods' CPU use in percent of their requests, as the HPA computes it; null before metrics exist. */
async function appCpuUtilization(kube: Kube): Promise<number | null> {
  const metrics = await kube.run(["get", "pods.metrics.k8s.io", "-l", APP_SELECTOR, "-o", "json"]);
  if (metrics.code !== 0) return null;
  const usage = new Map((JSON.parse(metrics.stdout) as PodMetricsList).items.map((p) => [p.metadata.name, p.containers.reduce((n, c) => n + (cpuMillicores(c.usage.cpu) ?? 0), 0)]));
  let used = 0;
  let requested = 0;
  for (const pod of (await kube.json<PodRequests>(["get", "pods", "-l", APP_SELECTOR])).items) {
    const u = usage.get(pod.metadata.name);
    if (u === undefined) continue;
    used += u;
    requested += pod.spec.containers.reduce((n, c) => n + (cpuMillicores(c.resources?.requests?.cpu ?? "0") ?? 0), 0);
  }
  return requested > 0 ? (100 * used) / requested : null;
}

/** Waits until the app pods use less than half the HPA's target, well inside its 10% tolerance. */
async function waitForIdleCpu(kube: Kube, target: number, log: (line: string) => void): Promise<void> {
  let last: number | null = null;
  const idle = async () => {
    last = await appCpuUtilization(kube);
    return last === null || last < target / 2;
  };
  if (await idle()) return;
  log(`reset: app pods at ${Math.round(last ?? 0)}% CPU of requests: waiting for < ${target / 2}% before a new HPA`);
  await waitFor(idle, 180_000, `reset: app pods still above ${target / 2}% CPU`, 5000);
  log(`reset: app pods at ${Math.round(last ?? 0)}% CPU`);
}
