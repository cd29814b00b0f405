// The Prometheus Operator component (kustomize/components/prometheus-operator): rendered with
// `kubectl kustomize` onto the base and onto each overlay, as a user's overlay would, its
// PodMonitor must select the app pods by their selector labels and scrape the named port and path
// the app serves; no overlay may include it (the CRDs are not on a plain cluster). The
// PrometheusRule's groups, as a plain rules file, must pass `promtool check rules`, and promtool's
// unit tests show when each alert fires.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import YAML from "yaml";
import { OPERATOR_COMPONENT, ruleGroups, rulesFile } from "../../scripts/lib/monitoring";
import { requireTool } from "../helpers/tools";
import { testApp } from "../helpers/app";
import { KUSTOMIZE_DIR, kustomize, pick, ROOT, type K8sObject } from "./render";

const KUBECTL = requireTool("kubectl", "https://kubernetes.io/docs/tasks/tools/");
const PROMTOOL = requireTool("promtool", "Debian: apt-get install -y prometheus");

const RECOMMENDED_LABELS = [
  "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
  "app.kubernetes.io/component", "app.kubernetes.io/part-of",
];
/** The job label the PodMonitor gives the app's series, and the rules select on. */
const JOB = "bun-k8s";

interface PodMonitor extends K8sObject {
  spec: {
    jobLabel?: string;
    namespaceSelector?: unknown;
    selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
    podMetricsEndpoints: Array<{ port?: string; path?: string; interval?: string; scrapeTimeout?: string }>;
  };
}

describe.skipIf(!KUBECTL)("the prometheus-operator component on the base", () => {
  // A user's overlay: the base plus the component. Under .artifacts (git-ignored) so the relative
  // paths are the ones a kustomization inside the repository would use.
  const dir = join(ROOT, ".artifacts", "prometheus-operator-render");
  let base: K8sObject[] = [];
  let withComponent: K8sObject[] = [];

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    const rel = (p: string) => relative(dir, join(ROOT, p));
    writeFileSync(
      join(dir, "kustomization.yaml"),
      YAML.stringify({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: [rel("kustomize/base")],
        components: [rel(OPERATOR_COMPONENT)],
      }),
    );
    [base, withComponent] = await Promise.all([kustomize(KUBECTL!, join(KUSTOMIZE_DIR, "base")), kustomize(KUBECTL!, dir)]);
  }, 30_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const app = () => pick<IDeployment & K8sObject>(withComponent, "Deployment", "bun-k8s");
  const podMonitor = () => pick<PodMonitor>(withComponent, "PodMonitor", "bun-k8s");

  test("is a Component that adds a PodMonitor and a PrometheusRule and leaves the base as it is", () => {
    const kustomization = YAML.parse(readFileSync(join(ROOT, OPERATOR_COMPONENT, "kustomization.yaml"), "utf8"));
    expect(kustomization.kind).toBe("Component");
    expect(kustomization.apiVersion).toBe("kustomize.config.k8s.io/v1alpha1");
    const added = withComponent.filter((o) => !base.some((b) => b.kind === o.kind && b.metadata.name === o.metadata.name));
    expect(added.map((o) => `${o.apiVersion} ${o.kind}/${o.metadata.name}`).sort()).toEqual([
      "monitoring.coreos.com/v1 PodMonitor/bun-k8s",
      "monitoring.coreos.com/v1 PrometheusRule/bun-k8s",
    ]);
    for (const b of base) expect(withComponent).toContainEqual(b);
  });

  test("the PodMonitor selects the app pods (by selector labels, not the version) and no other pod", () => {
    const selector = podMonitor().spec.selector;
    expect(selector.matchExpressions).toBeUndefined();
    const deployment = app();
    // The labels the Deployment selects its pods by: stable across versions.
    expect(selector.matchLabels).toEqual(deployment.spec!.selector.matchLabels!);
    expect(deployment.spec!.template.metadata!.labels).toMatchObject(selector.matchLabels!);
    expect(Object.keys(selector.matchLabels!)).not.toContain("app.kubernetes.io/version");
    for (const other of withComponent.filter((o) => o.kind === "Deployment" && o.metadata.name !== "bun-k8s")) {
      expect((other as IDeployment & K8sObject).spec!.template.metadata!.labels).not.toMatchObject(selector.matchLabels!);
    }
    // No namespaceSelector: the pods in the PodMonitor's own namespace, where the overlay puts the app.
    expect(podMonitor().spec.namespaceSelector).toBeUndefined();
  });

  test("the PodMonitor scrapes the container's named port and the app's /metrics route", () => {
    const endpoints = podMonitor().spec.podMetricsEndpoints;
    expect(endpoints).toHaveLength(1);
    const ports = app().spec!.template.spec!.containers[0]!.ports!.map((p) => p.name);
    expect(ports).toContain(endpoints[0]!.port!);
    expect(endpoints[0]!.port).toBe("http");
    expect(endpoints[0]!.path).toBe(app().spec!.template.metadata!.annotations!["prometheus.io/path"]!);
    const { app: service } = testApp();
    expect(service.routes.some((r) => r.method === "GET" && r.path === endpoints[0]!.path)).toBe(true);
  });

  test(`the job label comes from a pod label whose value is "${JOB}", the job the rules select`, () => {
    const jobLabel = podMonitor().spec.jobLabel!;
    expect(app().spec!.template.metadata!.labels![jobLabel]).toBe(JOB);
    const rule = pick(withComponent, "PrometheusRule", "bun-k8s") as K8sObject & { spec: { groups: [] } };
    for (const r of ruleGroups(rule).flatMap((g) => g.rules)) expect({ rule: r.alert, expr: r.expr }).toEqual({ rule: r.alert, expr: expect.stringContaining(`job="${JOB}"`) });
  });

  test("both objects carry the recommended labels, with the version of package.json", async () => {
    const { version } = await Bun.file(join(ROOT, "package.json")).json();
    for (const o of withComponent.filter((x) => x.apiVersion.startsWith("monitoring.coreos.com/"))) {
      for (const label of RECOMMENDED_LABELS) expect(Object.keys(o.metadata.labels ?? {})).toContain(label);
      expect(o.metadata.labels!["app.kubernetes.io/version"]).toBe(version);
      expect(o.metadata.labels!["app.kubernetes.io/name"]).toBe(JOB);
    }
  });

  test("it renders onto every overlay too, and selects that overlay's app pods", async () => {
    const overlays = readdirSync(join(KUSTOMIZE_DIR, "overlays"));
    expect(overlays.length).toBeGreaterThanOrEqual(3);
    for (const overlay of overlays) {
      const target = join(dir, overlay);
      mkdirSync(target, { recursive: true });
      const rel = (p: string) => relative(target, join(ROOT, p));
      writeFileSync(join(target, "kustomization.yaml"), YAML.stringify({ resources: [rel(`kustomize/overlays/${overlay}`)], components: [rel(OPERATOR_COMPONENT)] }));
      const objects = await kustomize(KUBECTL!, target);
      const monitor = pick<PodMonitor>(objects, "PodMonitor", "bun-k8s");
      const deployment = pick<IDeployment & K8sObject>(objects, "Deployment", "bun-k8s");
      expect({ overlay, matches: deployment.spec!.template.metadata!.labels }).toMatchObject({ overlay, matches: monitor.spec.selector.matchLabels! });
      expect(deployment.spec!.template.spec!.containers[0]!.ports!.map((p) => p.name)).toContain(monitor.spec.podMetricsEndpoints[0]!.port!);
    }
  }, 30_000);

  test("no overlay and not the base includes this component (the operator's CRDs are optional)", () => {
    const dirs = ["base", ...readdirSync(join(KUSTOMIZE_DIR, "overlays")).map((o) => `overlays/${o}`)];
    expect(dirs.length).toBeGreaterThanOrEqual(4);
    for (const d of dirs) {
      const k = YAML.parse(readFileSync(join(KUSTOMIZE_DIR, d, "kustomization.yaml"), "utf8"));
      const mentions = (list: string[] | undefined) => (list ?? []).filter((r) => r.includes("components/prometheus-operator"));
      expect({ d, components: mentions(k.components) }).toEqual({ d, components: [] });
      expect({ d, resources: mentions(k.resources) }).toEqual({ d, resources: [] });
    }
  });
});

describe.skipIf(!PROMTOOL)("the PrometheusRule's groups as a plain rules file (promtool)", () => {
  let dir = "";
  const promtool = (...args: string[]) => {
    const r = Bun.spawnSync([PROMTOOL!, ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
  };
  const series = (labels: string) => `{job="${JOB}",namespace="demo",pod="bun-k8s-a",method="GET",${labels}}`;
  const errorRatioDescription = (percent: string) =>
    `${percent} of the requests in namespace demo answered 5xx over the last 5 minutes (GET /faults shows whether fault injection is on).`;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bun-k8s-promtool-"));
    const rule = YAML.parse(readFileSync(join(ROOT, OPERATOR_COMPONENT, "prometheusrule.yaml"), "utf8"));
    writeFileSync(join(dir, "rules.yaml"), rulesFile(rule));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("promtool check rules accepts it", () => {
    const { code, out } = promtool("check", "rules", "rules.yaml");
    expect(out).toContain("SUCCESS: 2 rules found");
    expect(code).toBe(0);
  });

  test("promtool check rules rejects a broken expression (the check can fail)", () => {
    writeFileSync(join(dir, "broken.yaml"), YAML.stringify({ groups: [{ name: "x", rules: [{ alert: "X", expr: "sum by (namespace (up)" }] }] }));
    expect(promtool("check", "rules", "broken.yaml").code).not.toBe(0);
  });

  test("promtool test rules: the 5xx alert fires after 5 minutes above 5%, not below it, not for /status/:code; the target alert after 2 minutes down", () => {
    const summary = "bun-k8s answers more than 5% of its requests with a 5xx";
    const unit = {
      rule_files: ["rules.yaml"],
      evaluation_interval: "1m",
      tests: [
        {
          // 600 answers a minute, 60 of them 500s (9.1%): pending at 3 minutes, firing at 10.
          interval: "1m",
          input_series: [
            { series: `http_requests_total${series('route="/",status="200"')}`, values: "0+600x20" },
            { series: `http_requests_total${series('route="/kv/:key",status="500"')}`, values: "0+60x20" },
          ],
          alert_rule_test: [
            { eval_time: "3m", alertname: "BunK8sHighErrorRatio", exp_alerts: [] },
            {
              eval_time: "10m",
              alertname: "BunK8sHighErrorRatio",
              exp_alerts: [{ exp_labels: { severity: "critical", namespace: "demo" }, exp_annotations: { summary, description: errorRatioDescription("9.091%") } }],
            },
          ],
        },
        {
          // 1% errors, and 5xx answers the client asked for on /status/:code: no alert.
          interval: "1m",
          input_series: [
            { series: `http_requests_total${series('route="/",status="200"')}`, values: "0+990x20" },
            { series: `http_requests_total${series('route="/",status="503"')}`, values: "0+10x20" },
            { series: `http_requests_total${series('route="/status/:code",status="5xx"')}`, values: "0+1000x20" },
          ],
          alert_rule_test: [{ eval_time: "15m", alertname: "BunK8sHighErrorRatio", exp_alerts: [] }],
        },
        {
          // Scraped for 2 minutes, then not: pending at 3 minutes, firing from 4 (2 minutes down).
          interval: "1m",
          input_series: [{ series: `up{job="${JOB}",namespace="demo",pod="bun-k8s-a",instance="10.244.1.7:8000"}`, values: "1 1 0 0 0 0 0 0" }],
          alert_rule_test: [
            { eval_time: "3m", alertname: "BunK8sTargetDown", exp_alerts: [] },
            {
              eval_time: "5m",
              alertname: "BunK8sTargetDown",
              exp_alerts: [
                {
                  exp_labels: { severity: "warning", job: JOB, namespace: "demo", pod: "bun-k8s-a", instance: "10.244.1.7:8000" },
                  exp_annotations: { summary: "Prometheus cannot scrape a bun-k8s pod", description: "demo/bun-k8s-a has not answered GET /metrics for 2 minutes." },
                },
              ],
            },
          ],
        },
      ],
    };
    writeFileSync(join(dir, "alerts.test.yaml"), YAML.stringify(unit));
    const { code, out } = promtool("test", "rules", "alerts.test.yaml");
    expect(out).toContain("SUCCESS");
    expect(code).toBe(0);

    // The same unit test with the alert expected early fails: promtool's verdict is real.
    unit.tests[2]!.alert_rule_test[0]!.exp_alerts = unit.tests[2]!.alert_rule_test[1]!.exp_alerts;
    writeFileSync(join(dir, "wrong.test.yaml"), YAML.stringify(unit));
    expect(promtool("test", "rules", "wrong.test.yaml").code).not.toBe(0);
  });
});
