// src/modules/cluster: the model (plain objects in, the dashboard's tree out) and the routes
// without a cluster (off, no token, no kubeconfig). What the API server sends and how the view
// follows a rollout are tested on the real cluster (tests/cluster/cluster-view.test.ts).
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { offlineDeps } from "../../scripts/lib/app";
import { createApp } from "../../src/app";
import { silentLogger } from "../../src/logger";
import { buildTree, endpointsByPod, MAX_EVENTS, type ClusterObjects } from "../../src/modules/cluster/model";
import { ClusterView, describeError } from "../../src/modules/cluster/watcher";
import { call, configFrom } from "../helpers/app";

const owner = (kind: string, name: string, uid: string) => ({ kind, name, uid, controller: true });

function objects(): ClusterObjects {
  return {
    deployments: [
      { metadata: { name: "bun-k8s", uid: "d1", annotations: { "deployment.kubernetes.io/revision": "3" } }, spec: { replicas: 2 }, status: { updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 } },
    ],
    replicaSets: [
      { metadata: { name: "bun-k8s-old", uid: "r2", annotations: { "deployment.kubernetes.io/revision": "2" }, ownerReferences: [owner("Deployment", "bun-k8s", "d1")] }, spec: { replicas: 1 }, status: { readyReplicas: 1 } },
      { metadata: { name: "bun-k8s-new", uid: "r3", annotations: { "deployment.kubernetes.io/revision": "3" }, ownerReferences: [owner("Deployment", "bun-k8s", "d1")] }, spec: { replicas: 1 }, status: { readyReplicas: 1 } },
      { metadata: { name: "bun-k8s-history", uid: "r1", annotations: { "deployment.kubernetes.io/revision": "1" }, ownerReferences: [owner("Deployment", "bun-k8s", "d1")] }, spec: { replicas: 0 } },
    ],
    pods: [
      {
        metadata: { name: "bun-k8s-new-b", uid: "p2", creationTimestamp: new Date("2026-12-02T10:00:00Z"), ownerReferences: [owner("ReplicaSet", "bun-k8s-new", "r3")] },
        spec: { nodeName: "node-1" },
        status: { phase: "Running", podIP: "10.244.0.9", conditions: [{ type: "Ready", status: "True" }], containerStatuses: [{ restartCount: 2, ready: true, lastState: { terminated: { reason: "OOMKilled" } } }] },
      },
      {
        metadata: { name: "bun-k8s-old-a", uid: "p1", deletionTimestamp: "2026-12-02T10:01:00Z", ownerReferences: [owner("ReplicaSet", "bun-k8s-old", "r2")] },
        status: { phase: "Running", conditions: [{ type: "Ready", status: "False" }], containerStatuses: [{ restartCount: 0 }] },
      },
      { metadata: { name: "probe", uid: "p9" }, status: { phase: "Succeeded" } },
    ],
    endpointSlices: [
      {
        metadata: { name: "bun-k8s-abcde", labels: { "kubernetes.io/service-name": "bun-k8s" } },
        endpoints: [
          { addresses: ["10.244.0.9"], conditions: { ready: true }, targetRef: { kind: "Pod", name: "bun-k8s-new-b" } },
          { addresses: ["10.244.0.8"], conditions: { ready: false, serving: true, terminating: true }, targetRef: { kind: "Pod", name: "bun-k8s-old-a" } },
        ],
      },
    ],
    hpas: [
      {
        metadata: { name: "bun-k8s" },
        spec: { minReplicas: 2, maxReplicas: 10, scaleTargetRef: { kind: "Deployment", name: "bun-k8s" }, metrics: [{ type: "Resource", resource: { name: "cpu", target: { averageUtilization: 50 } } }] },
        status: { currentReplicas: 2, desiredReplicas: 4, currentMetrics: [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: 180 } } }] },
      },
    ],
    events: [
      { type: "Normal", reason: "Old", involvedObject: { kind: "Pod", name: "a" }, lastTimestamp: "2026-12-02T09:00:00Z" },
      { type: "Warning", reason: "Unhealthy", message: "Readiness probe failed", count: 3, involvedObject: { kind: "Pod", name: "b" }, lastTimestamp: new Date("2026-12-02T10:00:00Z") },
      { type: "Normal", reason: "Scheduled", involvedObject: { kind: "Pod", name: "c" }, eventTime: "2026-12-02T09:30:00Z" },
    ],
  };
}

describe("cluster view model", () => {
  test("Deployment -> ReplicaSets (newest revision first) -> Pods, by controller references", () => {
    const tree = buildTree(objects());
    expect(tree.deployments).toHaveLength(1);
    const d = tree.deployments[0]!;
    expect(d).toMatchObject({ name: "bun-k8s", desired: 2, updated: 1, ready: 2, revision: 3 });
    expect(d.replicaSets.map((rs) => [rs.name, rs.revision, rs.pods.map((p) => p.name)])).toEqual([
      ["bun-k8s-new", 3, ["bun-k8s-new-b"]],
      ["bun-k8s-old", 2, ["bun-k8s-old-a"]],
    ]);
    expect(tree.otherPods.map((p) => p.name)).toEqual(["probe"]);
  });

  test("a ReplicaSet at 0 with no pods is history and left out; one at 0 still draining pods stays", () => {
    const input = objects();
    input.replicaSets[0]!.spec!.replicas = 0;
    const names = buildTree(input).deployments[0]!.replicaSets.map((rs) => rs.name);
    expect(names).toEqual(["bun-k8s-new", "bun-k8s-old"]);
  });

  test("pods: ready, terminating, restarts, the last stop's reason, node, address and endpoint conditions", () => {
    const [newRs, oldRs] = buildTree(objects()).deployments[0]!.replicaSets;
    expect(newRs!.pods[0]).toEqual({
      name: "bun-k8s-new-b", phase: "Running", ready: true, terminating: false, restarts: 2, reason: "OOMKilled",
      node: "node-1", ip: "10.244.0.9", createdAt: "2026-12-02T10:00:00.000Z",
      endpoint: { service: "bun-k8s", ready: true, serving: true, terminating: false },
    });
    expect(oldRs!.pods[0]).toMatchObject({ ready: false, terminating: true, endpoint: { ready: false, serving: true, terminating: true } });
  });

  test("EndpointSlice conditions: an unset ready means ready, an unset serving follows ready", () => {
    const found = endpointsByPod([
      { metadata: { name: "s", labels: { "kubernetes.io/service-name": "svc" } }, endpoints: [
        { targetRef: { kind: "Pod", name: "a" } },
        { conditions: { ready: false }, targetRef: { kind: "Pod", name: "b" } },
        { conditions: { ready: true }, targetRef: { kind: "Node", name: "n" } },
      ] },
    ]);
    expect(Object.fromEntries(found)).toEqual({
      a: { service: "svc", ready: true, serving: true, terminating: false },
      b: { service: "svc", ready: false, serving: false, terminating: false },
    });
  });

  test("the HPA: current and desired replicas, CPU against its target", () => {
    expect(buildTree(objects()).hpas).toEqual([
      { name: "bun-k8s", target: "Deployment/bun-k8s", min: 2, max: 10, current: 2, desired: 4, cpuPercent: 180, cpuTargetPercent: 50, lastScaleTime: null },
    ]);
  });

  test(`events: newest first by lastTimestamp, else eventTime; at most ${MAX_EVENTS}`, () => {
    expect(buildTree(objects()).events.map((e) => e.reason)).toEqual(["Unhealthy", "Scheduled", "Old"]);
    const many = objects();
    many.events = Array.from({ length: 40 }, (_, i) => ({ reason: `e${i}`, lastTimestamp: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() }));
    const events = buildTree(many).events;
    expect(events).toHaveLength(MAX_EVENTS);
    expect(events[0]!.reason).toBe("e39");
  });
});

describe("describeError", () => {
  test("says what to do for 403, 401, an untrusted certificate and an unreachable API server", () => {
    expect(describeError({ code: 403 }, "pods", "ns")).toMatch(/forbidden.*list pods in namespace ns.*cluster-view/);
    expect(describeError({ statusCode: 401 }, "pods", "ns")).toMatch(/unauthorized/);
    expect(describeError(new Error("unable to verify the first certificate"), "pods", "ns")).toMatch(/NODE_EXTRA_CA_CERTS/);
    expect(describeError(new Error("connect ECONNREFUSED 10.0.0.1:443"), "pods", "ns")).toMatch(/did not answer.*NetworkPolicy/);
  });
});

function appWith(env: Record<string, string>, viewEnv: Record<string, string>, serviceAccountDir?: string) {
  const config = configFrom(env);
  const clusterView = new ClusterView({ config, logger: silentLogger, env: viewEnv, server: "test-host", serviceAccountDir });
  return { app: createApp(offlineDeps(env, { clusterView })), clusterView };
}

describe("cluster routes without a cluster", () => {
  test("CLUSTER_VIEW off (the default): 404 with how to turn it on; the client library is not loaded", async () => {
    const { app } = appWith({}, {});
    for (const path of ["/cluster", "/cluster/events"]) {
      const res = await call(app, "GET", path);
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ error: "cluster view is off", hint: expect.stringContaining("CLUSTER_VIEW=true") });
    }
  });

  test("on, outside Kubernetes and without a kubeconfig: 503 that says so, at once", async () => {
    const { app } = appWith({ CLUSTER_VIEW: "true" }, { KUBECONFIG: "/nonexistent/kubeconfig" });
    const t0 = performance.now();
    const res = await call(app, "GET", "/cluster");
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ error: "cluster view unavailable", detail: { state: "error", reason: expect.stringContaining("not running in Kubernetes") } });
  });

  test("on, in a pod without a token (automount off): the reason names the setting", async () => {
    const emptyDir = mkdtempSync(join(tmpdir(), "bun-k8s-sa-"));
    const { clusterView } = appWith({ CLUSTER_VIEW: "true" }, { KUBERNETES_SERVICE_HOST: "10.0.0.1" }, emptyDir);
    const snapshot = await clusterView.settled(2000);
    expect(snapshot).toMatchObject({ state: "error", reason: expect.stringContaining("automountServiceAccountToken") });
  });

  test("/cluster/events streams the state as Server-Sent Events, and shutdown ends the stream", async () => {
    const { app, clusterView } = appWith({ CLUSTER_VIEW: "true" }, { KUBECONFIG: "/nonexistent/kubeconfig" });
    const res = await app.handle(new Request("http://localhost/cluster/events"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toStartWith("event: snapshot\ndata: ");
    const snapshot = JSON.parse(first.split("data: ")[1]!.trim());
    expect(snapshot).toMatchObject({ server: "test-host", deployments: [] });
    expect(clusterView.clients).toBe(1);
    await clusterView.stop();
    let done = false;
    for (let i = 0; i < 5 && !done; i++) done = (await reader.read()).done;
    expect(done).toBe(true);
  });

  test("past CLUSTER_VIEW_MAX_CLIENTS streams, a new one gets 503 JSON", async () => {
    const { app, clusterView } = appWith({ CLUSTER_VIEW: "true", CLUSTER_VIEW_MAX_CLIENTS: "1" }, { KUBECONFIG: "/nonexistent/kubeconfig" });
    const open = await app.handle(new Request("http://localhost/cluster/events"));
    expect(open.status).toBe(200);
    const refused = await call(app, "GET", "/cluster/events");
    expect(refused.status).toBe(503);
    expect(refused.json).toMatchObject({ error: "too many cluster view streams" });
    await clusterView.stop();
  });
});
