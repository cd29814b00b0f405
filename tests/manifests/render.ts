// Helpers for tests/manifests/kustomize.test.ts: render with `kubectl kustomize`, pick objects,
// parse Kubernetes quantities.
import { join } from "node:path";
import YAML from "yaml";

export const ROOT = join(import.meta.dir, "..", "..");
export const KUSTOMIZE_DIR = join(ROOT, "kustomize");

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Renders one kustomization directory; throws with kubectl's stderr on failure. */
export async function kustomize(kubectl: string, dir: string): Promise<K8sObject[]> {
  const proc = Bun.spawn([kubectl, "kustomize", dir], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`kubectl kustomize ${dir} exited ${code}:\n${stderr}`);
  return YAML.parseAllDocuments(stdout)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`invalid YAML from ${dir}: ${doc.errors[0]!.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** Exactly one object of this kind whose name is `name` (or, for generated objects, `name-<hash>`). */
export function pick<T = K8sObject>(objects: readonly K8sObject[], kind: string, name: string): T {
  const found = objects.filter(
    (o) => o.kind === kind && (o.metadata.name === name || new RegExp(`^${name}-[a-z0-9]{10}$`).test(o.metadata.name)),
  );
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
  return found[0] as T;
}

/** Name without kustomize's generator hash suffix. */
export const baseName = (name: string) => name.replace(/-[a-z0-9]{10}$/, "");

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A Kubernetes quantity ("200m", "1", "128Mi", "1Gi") as a number (cores or bytes). */
export function quantity(q: string | number | undefined): number {
  if (q === undefined) throw new Error("quantity is not set");
  if (typeof q === "number") return q;
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q);
  if (!m) throw new Error(`not a quantity: ${q}`);
  const factor = BINARY[m[2]!] ?? DECIMAL[m[2]!];
  if (factor === undefined) throw new Error(`unknown quantity suffix in ${q}`);
  return Number(m[1]) * factor;
}

/** A Redis memory size ("192mb", "1gb", "100000"): Redis' "mb" and "gb" are binary. */
export function redisBytes(v: string): number {
  const m = /^(\d+)(kb|mb|gb|k|m|g)?$/i.exec(v.trim());
  if (!m) throw new Error(`not a Redis memory size: ${v}`);
  const unit = (m[2] ?? "").toLowerCase();
  const factor = { "": 1, k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 }[unit]!;
  return Number(m[1]) * factor;
}
