// kustomize/components/cluster-view: what the dashboard's cluster view may do, rendered as each
// overlay renders it. On in the learning overlays only; where on, the app's pods (and only they)
// get a token whose Role reads exactly what src/modules/cluster watches, in the namespace only.
import { beforeAll, describe, expect, test } from "bun:test";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import { WATCHED } from "../../src/modules/cluster/watcher";
import { requireTool } from "../helpers/tools";
import { KUSTOMIZE_DIR, kustomize, pick, type K8sObject } from "./render";

const KUBECTL = requireTool("kubectl", "https://kubernetes.io/docs/tasks/tools/");
const STACKS = { base: false, "overlays/kind": true, "overlays/docker-desktop": true, "overlays/high-replica": false } as const;

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

describe.skipIf(!KUBECTL)("the cluster-view component", () => {
  const rendered: Record<string, K8sObject[]> = {};
  beforeAll(async () => {
    for (const stack of Object.keys(STACKS)) rendered[stack] = await kustomize(KUBECTL!, `${KUSTOMIZE_DIR}/${stack}`);
  });

  for (const [stack, on] of Object.entries(STACKS)) {
    test(`${stack}: the view is ${on ? "on, with a token" : "off, and no token is mounted"}`, () => {
      const objects = rendered[stack]!;
      const config = pick<{ data: Record<string, string> }>(objects, "ConfigMap", "bun-k8s-config").data;
      const pod = pick<IDeployment & K8sObject>(objects, "Deployment", "bun-k8s").spec!.template.spec!;
      expect({ stack, view: config.CLUSTER_VIEW ?? "false", token: pod.automountServiceAccountToken }).toEqual({
        stack,
        view: on ? "true" : "false",
        token: on,
      });
      expect(objects.some((o) => o.kind === "Role" || o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding")).toBe(on);
      // Redis never talks to the API.
      expect(pick<IDeployment & K8sObject>(objects, "Deployment", "redis").spec!.template.spec!.automountServiceAccountToken).toBe(false);
    });
  }

  test("the Role is namespaced and read-only, grants exactly what the view watches, and no Secrets", () => {
    const objects = rendered["overlays/kind"]!;
    expect(objects.filter((o) => o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding")).toEqual([]);
    const rules = pick<{ rules: Rule[] }>(objects, "Role", "bun-k8s-cluster-view").rules;
    const granted = rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}`))).sort();
    const watched = Object.values(WATCHED).map((w) => `${w.group}/${w.plural}`).sort();
    expect(granted).toEqual(watched);
    for (const rule of rules) expect([...rule.verbs].sort()).toEqual(["get", "list", "watch"]);
    expect(granted.some((g) => /secrets|configmaps|\*/.test(g))).toBe(false);
  });

  test("the RoleBinding gives that Role to the app's ServiceAccount and to nothing else", () => {
    const objects = rendered["overlays/kind"]!;
    const binding = pick<{ roleRef: { kind: string; name: string }; subjects: Array<{ kind: string; name: string; namespace?: string }> }>(
      objects, "RoleBinding", "bun-k8s-cluster-view");
    expect(binding.roleRef).toMatchObject({ kind: "Role", name: "bun-k8s-cluster-view" });
    const account = pick<IDeployment & K8sObject>(objects, "Deployment", "bun-k8s").spec!.template.spec!.serviceAccountName;
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: account! }]);
  });

  test("the ServiceAccount itself still mounts nothing: only the app's pod template asks for the token", () => {
    for (const sa of rendered["overlays/kind"]!.filter((o) => o.kind === "ServiceAccount")) {
      expect({ sa: sa.metadata.name, automount: sa.automountServiceAccountToken }).toEqual({ sa: sa.metadata.name, automount: false });
    }
  });

  test("a NetworkPolicy lets the app's pods reach the API server (443, 6443) outside the pod network, and only that", () => {
    const policy = pick<{ spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; egress: Array<{ to: Array<{ ipBlock?: { cidr: string; except?: string[] } }>; ports: Array<{ port: number }> }> } }>(
      rendered["overlays/kind"]!, "NetworkPolicy", "bun-k8s-api-server").spec;
    expect(policy.policyTypes).toEqual(["Egress"]);
    expect(policy.podSelector.matchLabels["app.kubernetes.io/name"]).toBe("bun-k8s");
    expect(policy.egress.flatMap((e) => e.ports.map((p) => p.port)).sort()).toEqual([443, 6443]);
    expect(policy.egress.flatMap((e) => e.to.map((t) => t.ipBlock?.except ?? []))).toEqual([["10.244.0.0/16"]]);
  });
});
