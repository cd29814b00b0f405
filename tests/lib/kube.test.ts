// The pure parts of the kubectl wrapper the cluster checks rely on, on objects shaped like
// what `kubectl get -o json` returns (discovery.k8s.io/v1 EndpointSlice, v1 Pod).
import { describe, expect, test } from "bun:test";
import { cpuMillicores, Kube, podReady, readyPodsOf, restartCount, type EndpointSliceList, type Pod } from "../../scripts/lib/kube";

const endpoint = (name: string, conditions: Record<string, boolean>) => ({
  addresses: [`10.244.1.${name.length}`],
  conditions,
  targetRef: { kind: "Pod", name, namespace: "default", uid: "x" },
});

describe("readyPodsOf", () => {
  test("keeps ready endpoints, drops not-ready and terminating ones, merges slices", () => {
    const slices: EndpointSliceList = {
      items: [
        { endpoints: [endpoint("bun-k8s-b", { ready: true, serving: true, terminating: false }), endpoint("bun-k8s-off", { ready: false, serving: false, terminating: false })] },
        { endpoints: [endpoint("bun-k8s-a", {}), endpoint("bun-k8s-old", { ready: false, serving: true, terminating: true })] },
        {},
      ],
    };
    expect(readyPodsOf(slices)).toEqual(["bun-k8s-a", "bun-k8s-b"]);
    expect(readyPodsOf({ items: [] })).toEqual([]);
  });
});

describe("pod helpers", () => {
  const pod = (ready: string, restarts: number[], deleting = false): Pod => ({
    metadata: { name: "p", ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    spec: {},
    status: {
      conditions: [{ type: "PodScheduled", status: "True" }, { type: "Ready", status: ready }],
      containerStatuses: restarts.map((n, i) => ({ name: i === 0 ? "bun-k8s" : `side${i}`, ready: ready === "True", restartCount: n })),
    },
  });
  test("podReady needs Ready=True and no deletion", () => {
    expect(podReady(pod("True", [0]))).toBe(true);
    expect(podReady(pod("False", [0]))).toBe(false);
    expect(podReady(pod("True", [0], true))).toBe(false);
  });
  test("restartCount sums containers or reads one", () => {
    expect(restartCount(pod("True", [2, 3]))).toBe(5);
    expect(restartCount(pod("True", [2, 3]), "bun-k8s")).toBe(2);
  });
});

describe("Kube flags", () => {
  test("context and namespace go before the subcommand; cluster-wide calls drop the namespace", () => {
    const kube = new Kube({ context: "kind-bun-k8s", namespace: "demo" });
    expect(kube.argv(["get", "pods"])).toEqual(["kubectl", "--context", "kind-bun-k8s", "--namespace", "demo", "get", "pods"]);
    expect(kube.argv(["apply", "-k", "kustomize/metrics-server"], false)).toEqual(["kubectl", "--context", "kind-bun-k8s", "apply", "-k", "kustomize/metrics-server"]);
    expect(new Kube().argv(["get", "pods"])).toEqual(["kubectl", "get", "pods"]);
  });
});

describe("cpuMillicores", () => {
  test("reads the suffixes metrics-server and manifests use", () => {
    expect(cpuMillicores("250m")).toBe(250);
    expect(cpuMillicores("0.5")).toBe(500);
    expect(cpuMillicores("2")).toBe(2000);
    expect(cpuMillicores("1234567n")).toBeCloseTo(1.234567, 6);
    expect(cpuMillicores("12u")).toBeCloseTo(0.012, 6);
  });
  test("anything else is not a CPU quantity", () => {
    for (const q of ["", "m", "1Gi", "-5m", "1e3", "five"]) expect(cpuMillicores(q)).toBeNull();
  });
});
