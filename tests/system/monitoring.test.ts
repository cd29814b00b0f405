// The Grafana dashboard (monitoring/grafana/bun-k8s.json) and the alert rules
// (kustomize/components/prometheus-operator/prometheusrule.yaml) against a real Prometheus
// (Debian's package) scraping the service from source while it answers traffic with injected
// 500s and latency: every panel query and every rule expression must evaluate without error, the
// dashboard's queries must return data (the RED ones the values the traffic implies), the rules
// must load and evaluate healthy, and every metric a query names must be one /metrics exports.
// The queries of the monitoring lesson (docs/19-monitoring.md) are run the same way.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  dashboardQueries, loadDashboard, loadPrometheusRule, ruleGroups, rulesFile, substituteGrafanaVariables,
} from "../../scripts/lib/monitoring";
import { loadDocs } from "../../scripts/lib/markdown";
import { startPrometheus, type Prometheus, type Sample } from "../../scripts/lib/prometheus";
import { ROOT } from "../../scripts/lib/repo";
import { startService, type Service } from "../../scripts/lib/service";
import { requireTool } from "../helpers/tools";

setDefaultTimeout(60_000);
const PROMETHEUS = requireTool("prometheus", "Debian: apt-get install -y prometheus");

/** What service discovery (the PodMonitor, or the kubernetes-pods job) adds to every series. */
const TARGET_LABELS = { namespace: "demo", pod: "bun-k8s-7d9f8c6b5-x2vqk" };
/** Synthetic series Prometheus writes itself for every target; the rest must come from /metrics. */
const SYNTHETIC = new Set(["up"]);
/** PromQL words that are not metric names. */
const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"]);

const dashboard = loadDashboard();
const queries = dashboardQueries(dashboard);
const rule = loadPrometheusRule();
const rules = ruleGroups(rule).flatMap((g) => g.rules);
/** The lesson's queries: each line of its promql blocks, and each `promtool query instant $PROM '...'`. */
const LESSON = "docs/19-monitoring.md";
const lesson = loadDocs().find((d) => d.path === LESSON)!;
const lessonQueries = [
  ...lesson.fences.filter((f) => f.lang === "promql").flatMap((f) => f.lines.map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))),
  ...lesson.fences.filter((f) => f.lang === "sh").flatMap((f) => f.lines.flatMap((l) => [...l.matchAll(/promtool query instant \$PROM '([^']+)'/g)].map((m) => m[1]!))),
];

/** Metric names a PromQL expression selects: identifiers outside strings, label matchers,
 * grouping lists and ranges that are not a function call or a keyword. */
const metricNames = (expr: string) =>
  [
    ...expr
      .replace(/"(?:[^"\\]|\\.)*"/g, '""')
      .replace(/\{[^}]*\}/g, "{}")
      .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "")
      .replace(/\[[^\]]*\]/g, "[]")
      .matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g),
  ]
    .map((m) => m[1]!)
    .filter((n) => !KEYWORDS.has(n));

describe("the dashboard's JSON", () => {
  test("has a Prometheus datasource variable that every panel and target uses, and namespace and pod variables", () => {
    const vars = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
    expect(vars.datasource).toMatchObject({ type: "datasource", query: "prometheus" });
    expect(vars.namespace).toMatchObject({ type: "query", allValue: ".*" });
    expect(vars.pod?.type).toBe("query");
    // "All" pods is the list of bun-k8s pods (no allValue), so other workloads' series stay out.
    expect(vars.pod?.allValue).toBeUndefined();
    const panels = dashboard.panels.filter((p) => p.type !== "row") as Array<{ datasource?: unknown; targets?: Array<{ datasource?: unknown }> }>;
    expect(panels.length).toBeGreaterThanOrEqual(15);
    for (const p of panels) {
      expect(p.datasource).toEqual({ type: "prometheus", uid: "${datasource}" });
      for (const t of p.targets ?? []) expect(t.datasource).toEqual({ type: "prometheus", uid: "${datasource}" });
    }
  });

  test("every query filters on $namespace and $pod in each of its selectors", () => {
    expect(queries.length).toBeGreaterThanOrEqual(20);
    for (const q of queries) {
      const selectors = [...q.expr.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*\{([^}]*)\}/g)].map((m) => m[1]!);
      expect(selectors.length).toBeGreaterThan(0);
      for (const s of selectors) expect({ panel: q.panel, s }).toEqual({ panel: q.panel, s: expect.stringContaining('namespace=~"$namespace", pod=~"$pod"') });
    }
  });

  test("panels sit on Grafana's 24-column grid without overlapping", () => {
    const boxes = dashboard.panels.map((p) => ({ title: p.title, ...p.gridPos }));
    for (const b of boxes) expect(b.x + b.w).toBeLessThanOrEqual(24);
    const overlaps = boxes.flatMap((a, i) =>
      boxes.slice(i + 1).filter((b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h).map((b) => `${a.title} / ${b.title}`),
    );
    expect(overlaps).toEqual([]);
  });

  test("panel ids are unique and the template substitution covers every variable", () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const q of queries) expect(substituteGrafanaVariables(q.expr)).not.toContain("$");
    expect(substituteGrafanaVariables('rate(x{pod=~"$pod", a="${namespace}"}[$__rate_interval]) + increase(x[$__range])', { pod: "p" })).toBe(
      'rate(x{pod=~"p", a=".*"}[1m]) + increase(x[5m])',
    );
  });
});

describe.skipIf(!PROMETHEUS)("the dashboard's queries and the alert rules on a real Prometheus", () => {
  let app: Service;
  let prometheus: Prometheus;
  let dir = "";
  let exported = new Set<string>();
  const statuses: Record<number, number> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "bun-k8s-monitoring-"));
    writeFileSync(join(dir, "rules.yaml"), rulesFile(rule));
    app = await startService({
      command: [process.execPath, join(ROOT, "src/main.ts")],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "error", HOST: "127.0.0.1" },
    });
    prometheus = await startPrometheus({
      binary: PROMETHEUS!,
      targets: [`127.0.0.1:${app.port}`],
      labels: TARGET_LABELS,
      ruleFiles: [join(dir, "rules.yaml")],
    });
    await prometheus.waitForScrapes(2);

    // About 4 s of traffic: GET / and GET /visits with half the answers injected 500s and every
    // request delayed 5 to 20 ms, plus 404s.
    const enable = await fetch(app.url("/faults/enable"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ error_rate: 0.5, status: 500, latency_min_ms: 5, latency_max_ms: 20 }),
    });
    if (enable.status !== 200) throw new Error(`POST /faults/enable answered ${enable.status}`);
    const until = performance.now() + 4000;
    const count = (status: number) => void (statuses[status] = (statuses[status] ?? 0) + 1);
    const clients = ["/", "/", "/", "/visits", "/visits", "/kv/never-written"].map(async (path) => {
      while (performance.now() < until) count((await fetch(app.url(path))).status);
    });
    await Promise.all(clients);
    await Bun.sleep(2500); // two more scrapes after the last request, and rule evaluations
    const text = await (await fetch(app.url("/metrics"))).text();
    exported = new Set(text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(/[{ ]/)[0]!));
  });

  afterAll(async () => {
    await prometheus?.stop();
    await app?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const values: Record<string, Sample[]> = {};
  const run = async (expr: string) => {
    const reply = await prometheus.queryRaw(expr);
    return { status: reply.status, error: reply.error ?? null, result: (reply.data?.result ?? []) as Sample[] };
  };
  const byLabel = (samples: Sample[], label: string) => Object.fromEntries(samples.map((s) => [s.metric[label] ?? "", Number(s.value[1])]));

  test("the traffic had injected 500s, 200s and 404s", () => {
    expect(statuses[500]).toBeGreaterThan(10);
    expect(statuses[200]).toBeGreaterThan(10);
    expect(statuses[404]).toBeGreaterThan(0);
  });

  test(`every one of the dashboard's ${queries.length} queries evaluates and returns data`, async () => {
    const problems: string[] = [];
    for (const q of queries) {
      const expr = substituteGrafanaVariables(q.expr);
      const r = await run(expr);
      if (r.status !== "success") problems.push(`${q.panel} ${q.refId}: ${r.error}\n  ${expr}`);
      else if (r.result.length === 0) problems.push(`${q.panel} ${q.refId}: no data\n  ${expr}`);
      values[`${q.panel} ${q.refId}`] = r.result;
    }
    expect(problems).toEqual([]);
  });

  test(`every one of the ${lessonQueries.length} queries of ${LESSON} evaluates and returns data`, async () => {
    expect(lessonQueries.length).toBeGreaterThanOrEqual(7);
    const problems: string[] = [];
    for (const expr of lessonQueries) {
      const r = await run(expr);
      if (r.status !== "success") problems.push(`${expr}: ${r.error}`);
      else if (r.result.length === 0) problems.push(`${expr}: no data`);
    }
    expect(problems).toEqual([]);
  });

  test("a broken query is reported as an error (the check above can fail)", async () => {
    const r = await run(substituteGrafanaVariables("sum by (route (rate(http_requests_total[$__rate_interval]))"));
    expect(r.status).toBe("error");
    expect(r.error).toContain("parse error");
  });

  test("RED per route: request rate, about half 5xx on /, 0 on /metrics, p50 and p99 above the injected delay", () => {
    const rate = byLabel(values["Request rate by route A"]!, "route");
    expect(rate["/"]).toBeGreaterThan(0);
    expect(rate["/visits"]).toBeGreaterThan(0);
    expect(rate["/kv/:key"]).toBeGreaterThan(0);
    const errors = byLabel(values["5xx ratio by route A"]!, "route");
    expect(errors["/"]).toBeGreaterThan(0.25);
    expect(errors["/"]).toBeLessThan(0.75);
    // Probes and /metrics are never faulted; a route without a 5xx shows 0, not a gap.
    expect(errors["/metrics"]).toBe(0);
    const p50 = byLabel(values["Latency p50 and p99 by route A"]!, "route");
    const p99 = byLabel(values["Latency p50 and p99 by route B"]!, "route");
    expect(p50["/"]).toBeGreaterThanOrEqual(0.005);
    expect(p99["/"]).toBeGreaterThanOrEqual(p50["/"]!);
  });

  test("RED per pod: one series, labelled with the pod discovery gave it", () => {
    for (const key of ["Request rate by pod A", "5xx ratio by pod A", "Latency p50 and p99 by pod A", "Latency p50 and p99 by pod B"]) {
      expect({ key, pods: values[key]!.map((s) => s.metric.pod) }).toEqual({ key, pods: [TARGET_LABELS.pod] });
    }
    const ratio = Number(values["5xx ratio by pod A"]![0]!.value[1]);
    expect(ratio).toBeGreaterThan(0.1);
    expect(ratio).toBeLessThan(0.75);
  });

  test("saturation, faults, readiness and visits show what the pod did", () => {
    const first = (key: string) => Number(values[key]![0]!.value[1]);
    expect(first("CPU by pod A")).toBeGreaterThan(0);
    expect(first("Memory by pod A")).toBeGreaterThan(10 * 2 ** 20);
    expect(first("Store reachable by pod A")).toBe(1);
    expect(first("Fault injection on A")).toBe(1);
    expect(byLabel(values["Faults injected by kind A"]!, "kind")).toMatchObject({ error: expect.any(Number), latency: expect.any(Number) });
    expect(first("Ready and live by pod A")).toBe(1);
    expect(first("Pods ready / scraped A")).toBe(1);
    expect(first("Pods ready / scraped B")).toBe(1);
    expect(first("Visits per second by pod A")).toBeGreaterThan(0);
    expect(first("Visits in the time range A")).toBeGreaterThan(0);
  });

  test("every metric a query names is exported by /metrics (or is Prometheus' own up)", () => {
    expect(exported.has("http_requests_total")).toBe(true);
    const named = new Set([...queries.map((q) => q.expr), ...rules.map((r) => r.expr), ...lessonQueries].flatMap(metricNames));
    expect(named.size).toBeGreaterThanOrEqual(10);
    expect(metricNames('sum by (le) (rate(a_total{x="y{z}"}[1m])) / on (pod) b or histogram_quantile(0.5, c)')).toEqual(["a_total", "b", "c"]);
    expect([...named].filter((n) => !exported.has(n) && !SYNTHETIC.has(n))).toEqual([]);
  });

  test("the namespace and pod variables find the target's labels", async () => {
    for (const [name, match] of [["namespace", "bun_k8s_ready"], ["pod", 'bun_k8s_ready{namespace=~".*"}']] as const) {
      const res = await fetch(prometheus.service.url(`/api/v1/label/${name}/values?match[]=${encodeURIComponent(match)}`));
      const body = (await res.json()) as { data: string[] };
      expect(body.data).toEqual([TARGET_LABELS[name]]);
    }
    const vars = dashboard.templating.list.filter((v) => v.name === "namespace" || v.name === "pod").map((v) => (v.query as { query: string }).query);
    expect(vars).toEqual(["label_values(bun_k8s_ready, namespace)", 'label_values(bun_k8s_ready{namespace=~"$namespace"}, pod)']);
  });

  test(`every one of the ${rules.length} rule expressions evaluates: the 5xx ratio is over its threshold, the target is up`, async () => {
    for (const r of rules) {
      const reply = await run(r.expr);
      expect({ rule: r.alert, status: reply.status, error: reply.error }).toEqual({ rule: r.alert, status: "success", error: null });
      values[`rule ${r.alert}`] = reply.result;
    }
    expect(values["rule BunK8sHighErrorRatio"]!.map((s) => s.metric)).toEqual([{ namespace: TARGET_LABELS.namespace }]);
    expect(values["rule BunK8sTargetDown"]).toEqual([]);
  });

  test("Prometheus loaded the rules file: every rule healthy, the 5xx alert pending (its for: is 5m)", async () => {
    const res = await fetch(prometheus.service.url("/api/v1/rules"));
    const body = (await res.json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string; state?: string }> }> } };
    const loaded = body.data.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name).sort()).toEqual(rules.map((r) => r.alert!).sort());
    for (const r of loaded) expect({ name: r.name, health: r.health, lastError: r.lastError ?? "" }).toEqual({ name: r.name, health: "ok", lastError: "" });
    expect(Object.fromEntries(loaded.map((r) => [r.name, r.state]))).toEqual({ BunK8sHighErrorRatio: "pending", BunK8sTargetDown: "inactive" });
  });
});
