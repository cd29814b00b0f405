// A real Prometheus (Debian's `prometheus` binary) on a loopback port, scraping the given targets
// every second, with its HTTP query API. Used by the tests that check the RED metrics, the Grafana
// dashboard's queries and the alert rules against what Prometheus really computes.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import YAML from "yaml";
import { freePort } from "./redis";
import { startService, type Service } from "./service";

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface QueryReply {
  status: "success" | "error";
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

export interface PrometheusOptions {
  /** The `prometheus` binary. */
  binary: string;
  /** host:port targets of the one scrape job. */
  targets: string[];
  /** The scrape job's name (the `job` label). Default "bun-k8s". */
  job?: string;
  /** Extra target labels, as service discovery would add them (e.g. namespace and pod). */
  labels?: Record<string, string>;
  /** Rule files (absolute paths) Prometheus evaluates every second. */
  ruleFiles?: string[];
}

export interface Prometheus {
  service: Service;
  /** The raw reply of an instant query: errors (parse or evaluation) come back, they are not thrown. */
  queryRaw(promql: string): Promise<QueryReply>;
  /** An instant query's vector; throws with Prometheus' error. */
  query(promql: string): Promise<Sample[]>;
  /** Scrapes of the job Prometheus has stored so far (last 5 minutes). */
  scrapes(): Promise<number>;
  /** Waits until Prometheus has stored `n` scrapes of the job (bounded by timeoutMs). */
  waitForScrapes(n: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startPrometheus(o: PrometheusOptions): Promise<Prometheus> {
  const job = o.job ?? "bun-k8s";
  const dir = mkdtempSync(join(tmpdir(), "bun-k8s-prometheus-"));
  const config = {
    global: { scrape_interval: "1s", evaluation_interval: "1s" },
    ...(o.ruleFiles?.length ? { rule_files: o.ruleFiles } : {}),
    scrape_configs: [{ job_name: job, static_configs: [{ targets: o.targets, ...(o.labels ? { labels: o.labels } : {}) }] }],
  };
  writeFileSync(join(dir, "prometheus.yml"), YAML.stringify(config));
  const port = await freePort();
  let service: Service;
  try {
    service = await startService({
      command: [
        o.binary,
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      env: { PATH: process.env.PATH, HOME: dir },
      port,
      readyPath: "/-/ready",
      timeoutMs: 30_000,
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const queryRaw = async (promql: string): Promise<QueryReply> => {
    const res = await fetch(service.url(`/api/v1/query?query=${encodeURIComponent(promql)}`));
    return (await res.json()) as QueryReply;
  };
  const query = async (promql: string): Promise<Sample[]> => {
    const body = await queryRaw(promql);
    if (body.status !== "success") throw new Error(`${promql}: ${body.error}`);
    return body.data!.result as Sample[];
  };
  const scrapes = async () => Number((await query(`count_over_time(up{job="${job}"}[5m])`))[0]?.value[1] ?? 0);
  const waitForScrapes = async (n: number, timeoutMs = 15_000) => {
    const deadline = performance.now() + timeoutMs;
    let seen = await scrapes();
    while (seen < n && performance.now() < deadline) {
      await Bun.sleep(200);
      seen = await scrapes();
    }
    return seen;
  };
  const stop = async () => {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { service, queryRaw, query, scrapes, waitForScrapes, stop };
}
