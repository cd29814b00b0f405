// kustomize/components/ingress (docs/24-ingress.md): rendered on its own, as the lesson applies
// it, and onto the base, as an overlay of a user's would. Its one Ingress must validate against
// the Kubernetes schema with no unknown field, point at a Service and port the base really has,
// carry the class the local cluster's Traefik serves, and no overlay may include it (an Ingress
// without a controller is never served, and the kind cluster has none).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { IIngress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import type { IService } from "kubernetes-models/v1/Service";
import YAML from "yaml";
import { requireTool } from "../helpers/tools";
import { KUSTOMIZE_DIR, kustomize, pick, ROOT, type K8sObject } from "./render";
import { StrictFieldChecker } from "./strict-fields";

const KUBECTL = requireTool("kubectl", "https://kubernetes.io/docs/tasks/tools/");
const COMPONENT = join(KUSTOMIZE_DIR, "components", "ingress");
const OVERLAYS = ["kind", "docker-desktop", "high-replica"];
const RECOMMENDED_LABELS = [
  "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
  "app.kubernetes.io/component", "app.kubernetes.io/part-of",
];

/** The IngressClass the local cluster creates for its Traefik (scripts/local-cluster/addons). */
function localClusterIngressClass(): { name: string; controller: string } {
  const docs = YAML.parseAllDocuments(readFileSync(join(ROOT, "scripts/local-cluster/addons/traefik.yaml"), "utf8")).map((d) => d.toJS());
  const classes = docs.filter((d) => d?.kind === "IngressClass");
  expect(classes).toHaveLength(1);
  return { name: classes[0].metadata.name, controller: classes[0].spec.controller };
}

describe.skipIf(!KUBECTL)("the ingress component", () => {
  const dir = join(ROOT, ".artifacts", "ingress-render");
  let alone: K8sObject[] = [];
  let base: K8sObject[] = [];
  let withComponent: K8sObject[] = [];
  const overlays: Record<string, K8sObject[]> = {};

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    const rel = (p: string) => relative(dir, p);
    writeFileSync(
      join(dir, "kustomization.yaml"),
      YAML.stringify({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: [rel(join(KUSTOMIZE_DIR, "base"))],
        components: [rel(COMPONENT)],
      }),
    );
    [alone, base, withComponent] = await Promise.all([
      kustomize(KUBECTL!, COMPONENT),
      kustomize(KUBECTL!, join(KUSTOMIZE_DIR, "base")),
      kustomize(KUBECTL!, dir),
    ]);
    for (const o of OVERLAYS) overlays[o] = await kustomize(KUBECTL!, join(KUSTOMIZE_DIR, "overlays", o));
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const ingress = () => pick<IIngress & K8sObject>(alone, "Ingress", "bun-k8s");

  test("is a Component that adds one Ingress and leaves the base as it is", () => {
    const kustomization = YAML.parse(readFileSync(join(COMPONENT, "kustomization.yaml"), "utf8"));
    expect(kustomization.kind).toBe("Component");
    expect(alone.map((o) => `${o.apiVersion} ${o.kind}/${o.metadata.name}`)).toEqual(["networking.k8s.io/v1 Ingress/bun-k8s"]);
    const added = withComponent.filter((o) => !base.some((b) => b.kind === o.kind && b.metadata.name === o.metadata.name));
    expect(added).toEqual(alone);
    for (const b of base) expect(withComponent).toContainEqual(b);
  });

  test("the Ingress validates against the schema and has no unknown fields (and the check can fail)", () => {
    const o = ingress();
    expect(() => new Ingress(o).validate()).not.toThrow();
    const strict = new StrictFieldChecker([o], ROOT);
    expect(strict.unknownFields(o)).toEqual([]);
    const typo = structuredClone(o);
    (typo.spec as unknown as Record<string, unknown>).ingressClass = "traefik";
    expect(strict.unknownFields(typo)).toEqual(["Ingress.spec.ingressClass"]);
  });

  test("the class is the one the local cluster's Traefik serves", () => {
    const local = localClusterIngressClass();
    expect(local.controller).toBe("traefik.io/ingress-controller");
    expect(ingress().spec!.ingressClassName).toBe(local.name);
  });

  test("every rule sends the host bun-k8s.localtest.me to a Service and port the base has", () => {
    const service = pick<IService & K8sObject>(base, "Service", "bun-k8s");
    const rules = ingress().spec!.rules!;
    expect(rules.map((r) => r.host)).toEqual(["bun-k8s.localtest.me"]);
    const backends = rules.flatMap((r) => r.http!.paths.map((p) => ({ path: p.path, pathType: p.pathType, ...p.backend.service! })));
    expect(backends).toEqual([{ path: "/", pathType: "Prefix", name: "bun-k8s", port: { name: "http" } }]);
    expect(service.spec!.ports!.map((p) => p.name)).toContain("http");
  });

  test("it carries the recommended labels, the version being the app's", async () => {
    const { version } = await Bun.file(join(ROOT, "package.json")).json();
    const labels = ingress().metadata.labels!;
    for (const l of RECOMMENDED_LABELS) expect({ label: l, set: typeof labels[l] }).toEqual({ label: l, set: "string" });
    expect(labels["app.kubernetes.io/version"]).toBe(version);
    expect(labels["app.kubernetes.io/name"]).toBe(pick<K8sObject>(base, "Service", "bun-k8s").metadata.labels!["app.kubernetes.io/name"]!);
  });

  for (const overlay of OVERLAYS) {
    test(`overlays/${overlay} does not include it`, () => {
      expect(overlays[overlay]!.filter((o) => o.kind === "Ingress")).toEqual([]);
    });
  }
});
