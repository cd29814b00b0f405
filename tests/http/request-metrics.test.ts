import { describe, expect, test } from "bun:test";
import { HttpMetrics, LATENCY_BUCKETS, MAX_SERIES } from "../../src/http/request-metrics";

describe("HttpMetrics", () => {
  test("counts and cumulative buckets, with le inclusive", () => {
    const m = new HttpMetrics();
    m.record("GET", "/kv/:key", 200, 0.0005);
    m.record("GET", "/kv/:key", 200, 0.003);
    m.record("GET", "/kv/:key", 200, 42);
    const text = m.exposition();
    const labels = 'method="GET",route="/kv/:key",status="200"';
    expect(text).toContain(`http_requests_total{${labels}} 3`);
    expect(text).toContain(`http_request_duration_seconds_bucket{le="0.0005",${labels}} 1`);
    expect(text).toContain(`http_request_duration_seconds_bucket{le="0.0025",${labels}} 1`);
    expect(text).toContain(`http_request_duration_seconds_bucket{le="0.005",${labels}} 2`);
    expect(text).toContain(`http_request_duration_seconds_bucket{le="10",${labels}} 2`);
    expect(text).toContain(`http_request_duration_seconds_bucket{le="+Inf",${labels}} 3`);
    expect(text).toContain(`http_request_duration_seconds_count{${labels}} 3`);
    expect(text).toMatch(new RegExp(`http_request_duration_seconds_sum\\{${labels.replace(/[/:]/g, "\\$&")}\\} 42\\.0035`));
    const bucketLines = text.split("\n").filter((l) => l.startsWith("http_request_duration_seconds_bucket"));
    expect(bucketLines).toHaveLength(LATENCY_BUCKETS.length + 1);
  });

  test("series are separate per method, route and status; odd methods fold into OTHER", () => {
    const m = new HttpMetrics();
    m.record("GET", "/", 200, 0.001);
    m.record("GET", "/", 404, 0.001);
    m.record("POST", "/", 200, 0.001);
    for (let i = 0; i < 100; i++) m.record(`X-${i}`, "unmatched", 404, 0.001);
    const text = m.exposition();
    expect(text).toContain('http_requests_total{method="GET",route="/",status="200"} 1');
    expect(text).toContain('http_requests_total{method="GET",route="/",status="404"} 1');
    expect(text).toContain('http_requests_total{method="POST",route="/",status="200"} 1');
    expect(text).toContain('http_requests_total{method="OTHER",route="unmatched",status="404"} 100');
    expect(text.split("\n").filter((l) => l.startsWith("http_requests_total{"))).toHaveLength(4);
  });

  test("label values are escaped", () => {
    const m = new HttpMetrics();
    m.record("GET", 'a"b\\c\nd', 200, 0.001);
    expect(m.exposition()).toContain('route="a\\"b\\\\c\\nd"');
  });

  test("HELP and TYPE lines come once per family, with no series and with many", () => {
    const empty = new HttpMetrics();
    const busy = new HttpMetrics();
    busy.record("GET", "/", 200, 0.001);
    busy.record("POST", "/kv/:key", 413, 0.002);
    busy.record("GET", "/", 500, 0.003);
    for (const text of [empty.exposition(), busy.exposition()]) {
      const lines = text.split("\n");
      for (const family of ["http_requests_total", "http_request_duration_seconds"]) {
        expect(lines.filter((l) => l.startsWith(`# HELP ${family} `))).toHaveLength(1);
        expect(lines.filter((l) => l.startsWith(`# TYPE ${family} `))).toHaveLength(1);
      }
    }
  });

  test("the number of series is capped; past the cap requests still count, in one overflow series", () => {
    const m = new HttpMetrics();
    for (let i = 0; i < MAX_SERIES + 200; i++) m.record("GET", `/route-${i}`, 200, 0.001);
    const totals = m.exposition().split("\n").filter((l) => l.startsWith("http_requests_total{"));
    expect(totals).toHaveLength(MAX_SERIES + 1);
    expect(totals).toContain('http_requests_total{method="OTHER",route="overflow",status="other"} 200');
  });
});
