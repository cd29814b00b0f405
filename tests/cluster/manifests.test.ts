// What only the API server can say about the manifests: every overlay passes admission
// (server-side dry run) in a namespace that enforces the Pod Security level it is meant for
// ("restricted"; docker-desktop "baseline"), and the kind overlay, deployed by `task deploy`, really runs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ENABLED, URL_BASE, figure, kubectl, waitFor } from "./cluster";

const PSA_NS = "bun-k8s-psa-check";
const BASELINE_NS = "bun-k8s-psa-baseline";

/** The container names a Pod Security warning in `stderr` names. */
const flaggedContainers = (stderr: string) =>
  [...new Set(stderr.split("\n").filter((l) => l.includes("PodSecurity")).flatMap((l) => [...l.matchAll(/containers? ((?:"[^"]+"(?:, )?)+)/g)].flatMap((m) => m[1]!.match(/[^", ]+/g) ?? [])))].sort();

describe.skipIf(!ENABLED)("manifests on the real API server", () => {
  beforeAll(() => {
    for (const [ns, level] of [[PSA_NS, "restricted"], [BASELINE_NS, "baseline"]]) {
      kubectl("create", "namespace", ns!);
      expect(kubectl("label", "--overwrite", "namespace", ns!, `pod-security.kubernetes.io/enforce=${level}`, "pod-security.kubernetes.io/warn=restricted").code).toBe(0);
    }
  });
  afterAll(() => {
    kubectl("delete", "namespace", PSA_NS, BASELINE_NS, "--wait=false");
  });

  // The kind overlay fixes nodePort 30080, which the deployed stack holds: it is dry-run where
  // it runs (the default namespace); high-replica in a namespace that enforces "restricted".
  for (const [overlay, ns] of [["kind", "default"], ["high-replica", PSA_NS]] as const) {
    test(`${overlay}: accepted by a server-side dry run in ${ns}, with no Pod Security warning under "restricted"`, () => {
      const r = kubectl("apply", "--server-side", "--force-conflicts", "--dry-run=server", "--namespace", ns, "-k", `kustomize/overlays/${overlay}`);
      expect(r.stderr).not.toContain("PodSecurity");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("deployment.apps/bun-k8s serverside-applied (server dry run)");
    });
  }

  test('docker-desktop: accepted under "baseline"; "restricted" flags only the init step that owns Redis\' volume', () => {
    const r = kubectl("apply", "--server-side", "--dry-run=server", "--namespace", BASELINE_NS, "-k", "kustomize/overlays/docker-desktop");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("deployment.apps/redis serverside-applied (server dry run)");
    expect(flaggedContainers(r.stderr)).toEqual(["own-data"]);
  });

  test('the running pods (app, Redis) would be admitted if their namespace enforced "restricted"', () => {
    // The API server checks every existing pod against a new enforce level and warns per pod.
    const r = kubectl("label", "--dry-run=server", "--overwrite", "namespace", "default", "pod-security.kubernetes.io/enforce=restricted");
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("violate the new PodSecurity enforce level");
    expect(kubectl("get", "pods", "-l", "app.kubernetes.io/part-of=bun-k8s", "-o", "name").stdout.trim().split("\n").length).toBeGreaterThanOrEqual(3);
  });

  test("the base alone is accepted too", () => {
    const r = kubectl("apply", "--server-side", "--dry-run=server", "--namespace", PSA_NS, "-k", "kustomize/base");
    expect(r.stderr).not.toContain("violate PodSecurity");
    expect(r.code).toBe(0);
  });
});

describe.skipIf(!ENABLED)("the kind overlay, deployed with task deploy", () => {
  test("app and Redis are available, with every pod Ready", () => {
    for (const name of ["bun-k8s", "redis"]) {
      const r = kubectl("get", `deployment/${name}`, "-o", "jsonpath={.status.availableReplicas}/{.spec.replicas}");
      const [available, wanted] = r.stdout.split("/").map(Number);
      expect(r.code).toBe(0);
      expect(available).toBeGreaterThanOrEqual(1);
      expect(available).toBe(wanted!);
    }
  });

  test("the Redis claim is Bound by the default StorageClass", () => {
    const r = kubectl("get", "pvc/redis-pvc", "-o", "jsonpath={.status.phase} {.spec.storageClassName}");
    expect(r.stdout).toBe("Bound standard");
  });

  test("the NodePort answers on the node's address and on 127.0.0.1", async () => {
    const nodeIp = kubectl("get", "nodes", "-o", 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}').stdout.trim();
    expect(nodeIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    for (const base of [URL_BASE, `http://${nodeIp}:30080`]) {
      const seconds = await waitFor(`${base}/health`, async () => (await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) })).ok, 30_000);
      const info = (await (await fetch(`${base}/info`)).json()) as { pod?: { name?: string } } & Record<string, unknown>;
      expect(JSON.stringify(info)).toContain("bun-k8s-");
      figure(`NodePort ${base} answered after`, `${seconds.toFixed(1)} s`);
    }
  });

  test("pods run the image this checkout built (the unique tag of task deploy)", () => {
    const image = kubectl("get", "deployment/bun-k8s", "-o", "jsonpath={.spec.template.spec.containers[0].image}").stdout;
    expect(image).toMatch(/^bun-k8s:dev-[0-9a-f]{12}$/);
  });
});
