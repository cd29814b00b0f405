// Every response is in the RED metrics, as a real Prometheus (Debian's package) sees them: with
// fault injection on, the injected 500s and the body-size 413s show in
// sum by (status) (rate(http_requests_total[...])), and injected latency in a latency quantile.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { startPrometheus, type Prometheus, type Sample } from "../../scripts/lib/prometheus";
import { ROOT } from "../../scripts/lib/repo";
import { startService, type Service } from "../../scripts/lib/service";
import { requireTool } from "../helpers/tools";

setDefaultTimeout(60_000);
const PROMETHEUS = requireTool("prometheus", "Debian: apt-get install -y prometheus");
const INJECTED_DELAY_MS = 300;

describe.skipIf(!PROMETHEUS)("a real Prometheus scraping /metrics every second", () => {
  let app: Service;
  let prometheus: Prometheus;

  const query = (promql: string) => prometheus.query(promql);
  const byStatus = (samples: Sample[]) => Object.fromEntries(samples.map((s) => [s.metric.status, Number(s.value[1])]));
  const scrapes = () => prometheus.scrapes();

  beforeAll(async () => {
    app = await startService({
      command: [process.execPath, join(ROOT, "src/main.ts")],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "error", MAX_BODY_BYTES: "2048", HOST: "127.0.0.1" },
    });
    prometheus = await startPrometheus({ binary: PROMETHEUS!, targets: [`127.0.0.1:${app.port}`] });
    // Traffic starts once Prometheus has the service's series, so rates have a baseline.
    await prometheus.waitForScrapes(2);
  });

  afterAll(async () => {
    await prometheus?.stop();
    await app?.stop();
  });

  test("injected 500s, 413s and injected latency are in http_requests_total and http_request_duration_seconds", async () => {
    expect(await scrapes()).toBeGreaterThanOrEqual(2);
    const enable = await fetch(app.url("/faults/enable"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ error_rate: 0.5, status: 500, latency_min_ms: INJECTED_DELAY_MS, latency_max_ms: INJECTED_DELAY_MS }),
    });
    expect(enable.status).toBe(200);

    // About 4 s of traffic across several scrapes: 8 clients on GET /, one sending oversized bodies.
    const until = performance.now() + 4000;
    const statuses: Record<number, number> = {};
    const count = (status: number) => void (statuses[status] = (statuses[status] ?? 0) + 1);
    const clients = Array.from({ length: 8 }, async () => {
      while (performance.now() < until) count((await fetch(app.url("/"))).status);
    });
    const oversized = (async () => {
      while (performance.now() < until) {
        const res = await fetch(app.url("/kv/big"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ value: "x".repeat(4096) }) });
        count(res.status);
        await Bun.sleep(100);
      }
    })();
    await Promise.all([...clients, oversized]);
    expect(statuses[500]).toBeGreaterThan(10);
    expect(statuses[200]).toBeGreaterThan(10);
    expect(statuses[413]).toBeGreaterThan(10);
    await Bun.sleep(2500); // two more scrapes after the last request

    const window = "[15s]";
    const root = byStatus(await query(`sum by (status) (rate(http_requests_total{route="/"}${window}))`));
    expect(root["500"]).toBeGreaterThan(0);
    expect(root["200"]).toBeGreaterThan(0);
    // About half the answers are injected errors (Binomial, several dozen requests).
    const errorShare = root["500"]! / (root["500"]! + root["200"]!);
    expect(errorShare).toBeGreaterThan(0.25);
    expect(errorShare).toBeLessThan(0.75);

    const all = byStatus(await query(`sum by (status) (rate(http_requests_total${window}))`));
    expect(all["413"]).toBeGreaterThan(0);
    const tooLarge = await query('http_requests_total{method="POST",route="/kv/:key",status="413"}');
    expect(Number(tooLarge[0]?.value[1])).toBe(statuses[413]!);

    // Every request to / waited the injected delay, errors included: the median is above it.
    for (const status of ["200", "500"]) {
      const [median] = await query(
        `histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{route="/",status="${status}"}${window})))`,
      );
      expect({ status, atLeastDelay: Number(median?.value[1]) >= INJECTED_DELAY_MS / 1000 }).toEqual({ status, atLeastDelay: true });
    }
    const injected = await query('bun_k8s_faults_injected_total{kind="error"}');
    expect(Number(injected[0]?.value[1])).toBe(statuses[500]!);
  });
});
