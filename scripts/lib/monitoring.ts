// The monitoring files as data: the Grafana dashboard's queries and the PrometheusRule's rule
// groups, for the tests that run them against a real Prometheus and promtool.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { ROOT } from "./repo";

export const DASHBOARD = "monitoring/grafana/bun-k8s.json";
export const OPERATOR_COMPONENT = "kustomize/components/prometheus-operator";
export const PROMETHEUS_RULE = `${OPERATOR_COMPONENT}/prometheusrule.yaml`;

export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ refId: string; expr?: string }>;
  panels?: GrafanaPanel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: GrafanaPanel[];
  templating: { list: Array<{ name: string; type: string; query?: unknown; allValue?: string }> };
}

export interface DashboardQuery {
  panel: string;
  refId: string;
  expr: string;
}

export const loadDashboard = (root = ROOT): Dashboard => JSON.parse(readFileSync(join(root, DASHBOARD), "utf8")) as Dashboard;

/** Every panel target's PromQL, collapsed rows' panels included. */
export function dashboardQueries(dashboard: Dashboard): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const walk = (panels: GrafanaPanel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr !== undefined) out.push({ panel: p.title, refId: t.refId, expr: t.expr });
      if (p.panels) walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

/**
 * Grafana's variables replaced as Grafana would for "All" on every variable and a short time
 * range: template variables by `values` (a regex that matches anything by default), the built-in
 * intervals by fixed windows.
 */
export function substituteGrafanaVariables(expr: string, values: Record<string, string> = {}, rateInterval = "1m", range = "5m"): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, rateInterval)
    .replace(/\$__interval|\$\{__interval\}/g, rateInterval)
    .replace(/\$__range|\$\{__range\}/g, range)
    .replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, braced: string | undefined, bare: string | undefined) => values[(braced ?? bare)!] ?? ".*");
}

export interface RuleGroup {
  name: string;
  rules: Array<{ alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }>;
}

/** The PrometheusRule's spec.groups: what a plain Prometheus rules file holds. */
export function ruleGroups(prometheusRule: { spec?: { groups?: RuleGroup[] } }): RuleGroup[] {
  const groups = prometheusRule.spec?.groups;
  if (!groups?.length) throw new Error("the PrometheusRule has no spec.groups");
  return groups;
}

export const loadPrometheusRule = (root = ROOT) => YAML.parse(readFileSync(join(root, PROMETHEUS_RULE), "utf8")) as { kind: string; spec?: { groups?: RuleGroup[] } };

/** A plain Prometheus rules file (YAML) from the PrometheusRule. */
export const rulesFile = (prometheusRule: { spec?: { groups?: RuleGroup[] } }) => YAML.stringify({ groups: ruleGroups(prometheusRule) }, { lineWidth: 0 });
