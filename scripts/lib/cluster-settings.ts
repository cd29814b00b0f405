// Facts the cluster tasks need, read from the manifests in the repo (never repeated by hand):
// the kind cluster name and host port, each overlay's image tag, the workload names.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse, parseAllDocuments } from "yaml";

import { ROOT } from "./repo";

export { ROOT };
export const KIND_CONFIG = "kustomize/kind/cluster.yaml";
export const METRICS_SERVER = "kustomize/metrics-server";
export const OVERLAYS_DIR = "kustomize/overlays";
export const DEFAULT_OVERLAY = "kind";
/**
 * The Pod Security level each overlay's pods meet; "restricted" unless listed. docker-desktop's
 * Redis needs a root init step that owns its hostPath volume (see that overlay).
 */
export const POD_SECURITY_LEVEL: Record<string, "restricted" | "baseline"> = { "docker-desktop": "baseline" };
export const podSecurityLevel = (overlay: string) => POD_SECURITY_LEVEL[overlay] ?? "restricted";
export const IMAGE_NAME = "bun-k8s";

/** Object names in kustomize/base. */
export const APP_DEPLOYMENT = "bun-k8s";
export const APP_SERVICE = "bun-k8s";
export const APP_HPA = "bun-k8s";
export const REDIS_DEPLOYMENT = "redis";
export const REDIS_PVC = "redis-pvc";
export const APP_SELECTOR = "app.kubernetes.io/name=bun-k8s,app.kubernetes.io/component=server";
export const REDIS_SELECTOR = "app.kubernetes.io/name=redis,app.kubernetes.io/component=database";
export const STACK_SELECTOR = "app.kubernetes.io/part-of=bun-k8s";

export interface KindSettings {
  name: string;
  /** kubectl context kind creates for the cluster. */
  context: string;
  /** http://127.0.0.1:<hostPort> mapped to the overlay's NodePort, when configured. */
  url: string | null;
  nodePort: number | null;
}

interface KindConfig {
  name?: string;
  nodes?: Array<{ extraPortMappings?: Array<{ containerPort?: number; hostPort?: number; listenAddress?: string }> }>;
}

export function kindSettings(root = ROOT): KindSettings {
  const config = parse(readFileSync(join(root, KIND_CONFIG), "utf8")) as KindConfig;
  const name = config.name ?? "kind";
  const nodePort = overlayNodePort(DEFAULT_OVERLAY, root);
  const mapping = (config.nodes ?? [])
    .flatMap((n) => n.extraPortMappings ?? [])
    .find((m) => nodePort === null || m.containerPort === nodePort);
  // kind publishes on listenAddress (default 0.0.0.0); 127.0.0.1 avoids "localhost" resolving to ::1.
  const listen = mapping?.listenAddress;
  const host = !listen || listen === "0.0.0.0" ? "127.0.0.1" : listen.includes(":") ? `[${listen}]` : listen;
  return {
    name,
    context: `kind-${name}`,
    url: mapping?.hostPort ? `http://${host}:${mapping.hostPort}` : null,
    nodePort,
  };
}

export function overlayNames(root = ROOT): string[] {
  const dir = join(root, OVERLAYS_DIR);
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, "kustomization.yaml")))
    .map((d) => d.name)
    .sort();
}

export function overlayPath(overlay: string, root = ROOT): string {
  const names = overlayNames(root);
  if (!names.includes(overlay)) {
    throw new Error(`unknown overlay ${JSON.stringify(overlay)}: expected one of ${names.join(", ")}`);
  }
  return `${OVERLAYS_DIR}/${overlay}`;
}

interface Kustomization {
  resources?: string[];
  images?: Array<{ name?: string; newName?: string; newTag?: string }>;
  patches?: Array<{ patch?: string }>;
}

function readKustomization(dir: string): Kustomization {
  return parse(readFileSync(join(dir, "kustomization.yaml"), "utf8")) as Kustomization;
}

/** The image reference an overlay deploys (`images:` of the overlay, else of its bases). */
export function overlayImage(overlay: string, root = ROOT): string {
  const visit = (dir: string): string | null => {
    const k = readKustomization(dir);
    const entry = (k.images ?? []).find((i) => i.name === IMAGE_NAME);
    if (entry) return `${entry.newName ?? IMAGE_NAME}:${entry.newTag ?? "latest"}`;
    for (const r of k.resources ?? []) {
      const sub = resolve(dir, r);
      if (existsSync(join(sub, "kustomization.yaml"))) {
        const found = visit(sub);
        if (found) return found;
      }
    }
    return null;
  };
  return visit(join(root, overlayPath(overlay, root))) ?? `${IMAGE_NAME}:latest`;
}

/** The nodePort an overlay patches into the app Service, if any. */
export function overlayNodePort(overlay: string, root = ROOT): number | null {
  const k = readKustomization(join(root, OVERLAYS_DIR, overlay));
  for (const p of k.patches ?? []) {
    if (!p.patch) continue;
    for (const doc of parseAllDocuments(p.patch)) {
      const found = findNodePort(doc.toJS());
      if (found !== null) return found;
    }
  }
  return null;
}

function findNodePort(value: unknown): number | null {
  if (Array.isArray(value)) {
    for (const v of value) {
      const f = findNodePort(v);
      if (f !== null) return f;
    }
    return null;
  }
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (typeof o.path === "string" && o.path.endsWith("/nodePort") && typeof o.value === "number") return o.value;
    if (typeof o.nodePort === "number") return o.nodePort;
    for (const v of Object.values(o)) {
      const f = findNodePort(v);
      if (f !== null) return f;
    }
  }
  return null;
}

/**
 * The namespace `deploy`/`up` create for KUBE_NAMESPACE: Pod Security enforces the level the
 * overlay's pods meet ("restricted" for all but docker-desktop's "baseline";
 * tests/manifests/kustomize.test.ts checks the fields) and warns and audits at "restricted". A
 * namespace the user already had, such as default, is left unlabelled: the README gives the command.
 */
export function namespaceManifest(name: string, enforce: "restricted" | "baseline" = "restricted") {
  const labels: Record<string, string> = {};
  for (const [mode, level] of [["enforce", enforce], ["audit", "restricted"], ["warn", "restricted"]] as const) {
    labels[`pod-security.kubernetes.io/${mode}`] = level;
    labels[`pod-security.kubernetes.io/${mode}-version`] = "latest";
  }
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
}
