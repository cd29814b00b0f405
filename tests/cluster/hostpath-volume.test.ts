// Docker Desktop's "hostpath" StorageClass hands a pod a bare host directory owned by root, mode
// 0755, and the kubelet applies fsGroup to no hostPath volume. The same volume is made here by
// hand (a root-owned directory on the node, a PersistentVolume pre-bound to the claim) and the
// Redis of two renderings runs on it: the base's, which cannot write its append-only file, and
// docker-desktop's, whose init step makes /data Redis' own.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { ENABLED, figure, kubectl, sh, waitFor } from "./cluster";

const HOST_DIR = "/var/lib/bun-k8s-hostpath-check";
const REDIS_UID = 999;

interface Obj { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown }

/** The Redis part of a rendering: its Secret, ServiceAccount, claim and Deployment. */
function redisObjects(kustomization: string): Obj[] {
  const r = sh(["kubectl", "kustomize", kustomization]);
  expect(r.code).toBe(0);
  return YAML.parseAllDocuments(r.stdout)
    .map((d) => d.toJSON() as Obj)
    .filter((o) =>
      (o.kind === "Secret" && o.metadata.name.startsWith("redis-auth")) ||
      (["ServiceAccount", "Deployment"].includes(o.kind) && o.metadata.name === "redis") ||
      (o.kind === "PersistentVolumeClaim" && o.metadata.name === "redis-pvc"));
}

/** A namespace enforcing "baseline", and a root-owned 0755 directory bound to its redis-pvc. */
function hostPathNamespace(ns: string): string {
  const dir = join(HOST_DIR, ns);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  expect(kubectl("create", "namespace", ns).code).toBe(0);
  expect(kubectl("label", "namespace", ns, "pod-security.kubernetes.io/enforce=baseline").code).toBe(0);
  const pv = {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: `${ns}-data` },
    spec: {
      capacity: { storage: "100Mi" },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: "standard",
      claimRef: { namespace: ns, name: "redis-pvc" },
      hostPath: { path: dir, type: "Directory" },
    },
  };
  expect(sh(["kubectl", "--context", process.env.KUBE_CONTEXT ?? "bun-k8s-local", "apply", "-f", "-"], { stdin: JSON.stringify(pv) }).code).toBe(0);
  return dir;
}

function applyIn(ns: string, objects: Obj[]) {
  const list = { apiVersion: "v1", kind: "List", items: objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: ns } })) };
  const r = sh(["kubectl", "--context", process.env.KUBE_CONTEXT ?? "bun-k8s-local", "apply", "-f", "-"], { stdin: JSON.stringify(list) });
  expect(r.stderr).not.toContain("forbidden");
  expect(r.code).toBe(0);
}

const redisPod = (ns: string) =>
  kubectl("get", "pods", "-n", ns, "-l", "app.kubernetes.io/name=redis", "-o",
    "jsonpath={.items[0].status.containerStatuses[0].ready} {.items[0].status.containerStatuses[0].restartCount}").stdout.trim().split(" ");

const namespaces: string[] = [];
afterAll(() => {
  for (const ns of namespaces) {
    kubectl("delete", "namespace", ns, "--wait=true", "--timeout=60s");
    kubectl("delete", "pv", `${ns}-data`, "--ignore-not-found");
  }
  rmSync(HOST_DIR, { recursive: true, force: true });
});

describe.skipIf(!ENABLED)("Redis on a root-owned hostPath volume, as Docker Desktop provisions it", () => {
  test("the base's Redis cannot write /data: it restarts and never turns Ready", async () => {
    const ns = "bun-k8s-hostpath-base";
    namespaces.push(ns);
    hostPathNamespace(ns);
    applyIn(ns, redisObjects("kustomize/base"));
    const seconds = await waitFor("the base's Redis to fail and restart", () => Number(redisPod(ns)[1]) >= 1, 90_000);
    expect(redisPod(ns)[0]).toBe("false");
    const logs = kubectl("logs", "-n", ns, "deployment/redis", "--previous").stdout + kubectl("logs", "-n", ns, "deployment/redis").stdout;
    expect(logs).toMatch(/Permission denied/);
    figure("base Redis on a root-owned hostPath: first restart after", `${seconds.toFixed(1)} s`);
  });

  test("docker-desktop's Redis owns /data through its init step, turns Ready and writes its append-only file there", async () => {
    const ns = "bun-k8s-hostpath-dd";
    namespaces.push(ns);
    const dir = hostPathNamespace(ns);
    expect(statSync(dir).uid).toBe(0);
    applyIn(ns, redisObjects("kustomize/overlays/docker-desktop"));
    const seconds = await waitFor("docker-desktop's Redis Ready", () => redisPod(ns)[0] === "true", 120_000);
    expect(redisPod(ns)[1]).toBe("0");
    expect(statSync(dir).uid).toBe(REDIS_UID);
    const set = kubectl("exec", "-n", ns, "deployment/redis", "-c", "redis", "--", "redis-cli", "-h", "127.0.0.1", "set", "hostpath-check", "1");
    expect(set.stdout.trim()).toBe("OK");
    await waitFor("the append-only directory on the host", () => existsSync(join(dir, "appendonlydir")) && readdirSync(join(dir, "appendonlydir")).length > 0, 10_000);
    figure("docker-desktop Redis on a root-owned hostPath: Ready after", `${seconds.toFixed(1)} s`);
  });
});
