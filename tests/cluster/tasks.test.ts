// The Taskfile's cluster tasks, run with go-task against the local cluster, each checked against
// what Kubernetes then reports. The file puts the stack back as `task deploy` left it.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ENABLED, ROOT, figure, kubectl, readyPods, task, waitFor } from "./cluster";

const readyAppPods = () => readyPods().map((p) => p.metadata.name);

const specReplicas = () => Number(kubectl("get", "deployment/bun-k8s", "-o", "jsonpath={.spec.replicas}").stdout);

const revision = () => Number(kubectl("get", "deployment/bun-k8s", "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}").stdout);

describe.skipIf(!ENABLED)("go-task against the real cluster", () => {
  test("task status shows the app's pods, Service, HPA, PDB and PVC", () => {
    const r = task("status");
    expect(r.code).toBe(0);
    for (const pod of readyAppPods()) expect(r.stdout).toContain(pod);
    for (const kind of ["service/bun-k8s", "horizontalpodautoscaler.autoscaling/bun-k8s", "poddisruptionbudget.policy/bun-k8s", "persistentvolumeclaim/redis-pvc"]) {
      expect(r.stdout).toContain(kind);
    }
  });

  test("task logs prints every app pod's log, prefixed with its name", () => {
    const r = task("logs");
    expect(r.code).toBe(0);
    for (const pod of readyAppPods()) expect(r.stdout).toContain(`[pod/${pod}/bun-k8s]`);
  });

  test("task logs still works while a new pod has no container yet (right after a scale-up)", () => {
    const ready = readyAppPods();
    expect(kubectl("scale", "deployment/bun-k8s", "--replicas=3").code).toBe(0);
    try {
      const r = task("logs");
      expect(r.code).toBe(0);
      for (const pod of ready) expect(r.stdout).toContain(`[pod/${pod}/bun-k8s]`);
    } finally {
      kubectl("scale", "deployment/bun-k8s", "--replicas=2");
      kubectl("rollout", "status", "deployment/bun-k8s", "--timeout=120s");
    }
  });

  test("task scale N=4 scales the app to 4 pods (the HPA may already take one back); N=2 takes it back", () => {
    const since = Date.now() - 1000;
    const r = task("scale", "N=4");
    expect(r.code).toBe(0);
    figure("task scale N=4", `${r.seconds.toFixed(1)} s`);
    // The Deployment controller's own record of the scale-up.
    // A repeat of an earlier identical event (an earlier scale to 4) updates only its series'
    // lastObservedTime, not eventTime or lastTimestamp.
    type Ev = { reason: string; message: string; lastTimestamp?: string; eventTime?: string; series?: { lastObservedTime?: string } };
    const events = (JSON.parse(kubectl("get", "events", "--field-selector", "involvedObject.kind=Deployment,involvedObject.name=bun-k8s,reason=ScalingReplicaSet", "-o", "json").stdout) as { items: Ev[] }).items;
    const scaledTo4 = events.filter((e) => / to 4( |$)/.test(e.message) && Date.parse(e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? "") >= since - 1000);
    expect(scaledTo4.length).toBeGreaterThan(0);
    // The HPA owns the count: at low CPU it removes one pod a minute (kustomize/base/hpa.yaml),
    // and it may do so before the rollout wait returns.
    expect(readyAppPods().length).toBeGreaterThanOrEqual(3);
    expect(task("scale", "N=2").code).toBe(0);
  });

  test("re-applying the overlay, as task deploy does, keeps the replica count the HPA chose", async () => {
    expect(kubectl("patch", "hpa/bun-k8s", "--type=merge", "-p", '{"spec":{"minReplicas":3}}').code).toBe(0);
    const s = await waitFor("the HPA raises the Deployment to its new minimum of 3", () => specReplicas() === 3, 90_000);
    figure("HPA raises spec.replicas to a new minimum", `${s.toFixed(1)} s`);
    // The objects as the API server returned them from this apply: no race with the HPA's next sync.
    const r = kubectl("apply", "-k", join(ROOT, ".artifacts", "deploy", "kind"), "-o", "json");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { kind: string; items?: { kind: string; metadata: { name: string }; spec: Record<string, unknown> }[] };
    const items = out.items ?? [];
    const applied = (kind: string) => items.find((o) => o.kind === kind && o.metadata.name === "bun-k8s")!.spec;
    expect(applied("Deployment").replicas).toBe(3);
    expect(applied("HorizontalPodAutoscaler").minReplicas).toBe(2);
  });

  test("task restart rolls every pod onto a new ReplicaSet; task rollback returns to the previous template", () => {
    const before = readyAppPods();
    const rev = revision();
    const restartedAt = () => kubectl("get", "deployment/bun-k8s", "-o", "jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}").stdout;
    const templateBefore = restartedAt();
    const r = task("restart");
    expect(r.code).toBe(0);
    figure("task restart (rolling, waits for the rollout)", `${r.seconds.toFixed(1)} s`);
    const after = readyAppPods();
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(after.filter((p) => before.includes(p))).toEqual([]);
    expect(revision()).toBe(rev + 1);
    expect(restartedAt()).not.toBe(templateBefore);

    const back = task("rollback");
    expect(back.code).toBe(0);
    // A rollback re-uses the old ReplicaSet's template under a new revision number.
    expect(revision()).toBe(rev + 2);
    expect(restartedAt()).toBe(templateBefore);
  });

  test("task down deletes the stack; task deploy --skip-build brings it back", () => {
    const r = task("down");
    expect(r.code).toBe(0);
    expect(kubectl("get", "deployment/bun-k8s", "--ignore-not-found", "-o", "name").stdout.trim()).toBe("");
    expect(kubectl("get", "pvc/redis-pvc", "--ignore-not-found", "-o", "name").stdout.trim()).toBe("");
    const up = task("deploy", "OVERLAY=kind", "--", "--skip-build");
    expect(up.code).toBe(0);
    expect(readyAppPods().length).toBeGreaterThanOrEqual(2);
    figure("task deploy --skip-build after task down", `${up.seconds.toFixed(1)} s`);
  });
});
