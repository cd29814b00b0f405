import { describe, expect, test } from "bun:test";
import { HttpMetrics, LATENCY_BUCKETS, MAX_SERIES, quantileFromBuckets } from "../../src/http/request-metrics";

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

describe("latency quantiles from the buckets (the heartbeat's p50 and p99)", () => {
  test("bucketTotals adds every series' buckets", () => {
    const m = new HttpMetrics();
    m.record("GET", "/", 200, 0.0004);
    m.record("POST", "/kv/:key", 201, 0.0004);
    m.record("GET", "/stress", 200, 3);
    m.record("GET", "/stress", 200, 30);
    const totals = m.bucketTotals();
    expect(totals).toHaveLength(LATENCY_BUCKETS.length + 1);
    expect(totals[0]).toBe(2); // (0, 0.5 ms]
    expect(totals[LATENCY_BUCKETS.indexOf(5)]).toBe(1); // (2.5 s, 5 s]
    expect(totals[LATENCY_BUCKETS.length]).toBe(1); // past 10 s
    expect(new HttpMetrics().bucketTotals().every((n) => n === 0)).toBe(true);
  });

  test("interpolates inside the bucket that holds the rank, as histogram_quantile does", () => {
    const counts = new Float64Array(LATENCY_BUCKETS.length + 1);
    counts[LATENCY_BUCKETS.indexOf(0.001)] = 100; // all in (0.5 ms, 1 ms]
    expect(quantileFromBuckets(counts, 0.5)).toBeCloseTo(0.00075, 9);
    expect(quantileFromBuckets(counts, 0.99)).toBeCloseTo(0.0005 + 0.0005 * 0.99, 9);
    counts[LATENCY_BUCKETS.indexOf(0.25)] = 1; // one slow request among 101
    expect(quantileFromBuckets(counts, 0.5)!).toBeLessThan(0.001);
    expect(quantileFromBuckets(counts, 0.995)!).toBeGreaterThan(0.1);
  });

  test("the first bucket starts at 0, ranks past 10 s read as 10 s, no observations read as null", () => {
    const counts = new Float64Array(LATENCY_BUCKETS.length + 1);
    counts[0] = 4;
    expect(quantileFromBuckets(counts, 0.5)).toBeCloseTo(0.00025, 9);
    counts[0] = 0;
    counts[LATENCY_BUCKETS.length] = 3;
    expect(quantileFromBuckets(counts, 0.99)).toBe(10);
    expect(quantileFromBuckets(new Float64Array(LATENCY_BUCKETS.length + 1), 0.5)).toBeNull();
  });
});
