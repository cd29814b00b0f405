// Per-request HTTP metrics, kept out of prom-client on purpose: its inc/observe validate and
// hash the label set on every call (even on labelled children), which cost about 12% of a
// GET /health. Here a request is one Map lookup and a few additions; the Prometheus text is
// built only when /metrics is scraped.

export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Routes whose status the client chooses: labelled by class (2xx to 5xx), not by code. */
const CLIENT_CHOSEN_STATUS = new Set(["/status/:code"]);
/** Past this many label sets, new ones share one overflow series: /metrics stays small. */
export const MAX_SERIES = 500;
const OVERFLOW = { key: "overflow", labels: 'method="OTHER",route="overflow",status="other"' };

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"]);

interface Series {
  count: number;
  sum: number;
  /** Non-cumulative: buckets[i] counts observations in (LATENCY_BUCKETS[i-1], LATENCY_BUCKETS[i]]. */
  buckets: Float64Array;
  /** The series' exposition lines up to their values, built once: a scrape only appends numbers. */
  lines: { count: string; buckets: string[]; sum: string; total: string };
}

function seriesLines(labels: string): Series["lines"] {
  return {
    count: `http_requests_total{${labels}} `,
    buckets: [...LATENCY_BUCKETS.map((le) => `http_request_duration_seconds_bucket{le="${le}",${labels}} `), `http_request_duration_seconds_bucket{le="+Inf",${labels}} `],
    sum: `http_request_duration_seconds_sum{${labels}} `,
    total: `http_request_duration_seconds_count{${labels}} `,
  };
}

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export class HttpMetrics {
  #series = new Map<string, Series>();

  /** Unknown methods share the label OTHER, so odd requests cannot grow the series without bound. */
  record(method: string, route: string, status: number, seconds: number) {
    const m = KNOWN_METHODS.has(method) ? method : "OTHER";
    const statusLabel = CLIENT_CHOSEN_STATUS.has(route) ? `${Math.floor(status / 100)}xx` : String(status);
    let key = m + " " + statusLabel + " " + route;
    let series = this.#series.get(key);
    if (!series && this.#series.size >= MAX_SERIES) {
      key = OVERFLOW.key;
      series = this.#series.get(key);
    }
    if (!series) {
      const labels = key === OVERFLOW.key ? OVERFLOW.labels : `method="${m}",route="${escapeLabel(route)}",status="${statusLabel}"`;
      series = { count: 0, sum: 0, buckets: new Float64Array(LATENCY_BUCKETS.length + 1), lines: seriesLines(labels) };
      this.#series.set(key, series);
    }
    series.count++;
    series.sum += seconds;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
    series.buckets[i]!++;
  }

  /**
   * Observations per latency bucket over every series (non-cumulative, LATENCY_BUCKETS.length + 1
   * entries, the last one past 10 s). Costs one pass over the series: the heartbeat calls it once
   * per interval, the request path never does.
   */
  bucketTotals(): Float64Array {
    const totals = new Float64Array(LATENCY_BUCKETS.length + 1);
    for (const s of this.#series.values()) for (let i = 0; i < totals.length; i++) totals[i]! += s.buckets[i]!;
    return totals;
  }

  /** Prometheus text exposition (format 0.0.4), in the same shape prom-client writes. */
  exposition(): string {
    let counts =
      "# HELP http_requests_total HTTP requests answered, by method, route template and status\n" +
      "# TYPE http_requests_total counter\n";
    let histogram =
      "# HELP http_request_duration_seconds HTTP request latency in seconds, by method, route template and status\n" +
      "# TYPE http_request_duration_seconds histogram\n";
    for (const s of this.#series.values()) {
      const lines = s.lines;
      counts += lines.count + s.count + "\n";
      let cumulative = 0;
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        cumulative += s.buckets[i]!;
        histogram += lines.buckets[i]! + cumulative + "\n";
      }
      histogram += lines.buckets[LATENCY_BUCKETS.length]! + s.count + "\n" + lines.sum + s.sum + "\n" + lines.total + s.count + "\n";
    }
    return counts + "\n" + histogram;
  }
}

/**
 * The q-quantile (0..1) in seconds of non-cumulative bucket counts, estimated the way Prometheus'
 * histogram_quantile does: linear inside the bucket that holds the rank, the first bucket starting
 * at 0, and the highest finite bound for ranks past it. Null when there are no observations.
 */
export function quantileFromBuckets(counts: ArrayLike<number>, q: number): number | null {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total <= 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
    const inBucket = counts[i] ?? 0;
    if (inBucket > 0 && below + inBucket >= rank) {
      const lower = i === 0 ? 0 : LATENCY_BUCKETS[i - 1]!;
      return lower + (LATENCY_BUCKETS[i]! - lower) * ((rank - below) / inBucket);
    }
    below += inBucket;
  }
  return LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1]!;
}
