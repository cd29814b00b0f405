import type { Registry } from "prom-client";
import { registerEventLoopLag } from "./event-loop-lag";
import { HttpMetrics } from "./http/request-metrics";

/** prom-client defaults that are left out: see loadDefaults. */
export const HEAP_SPACE_METRICS = ["nodejs_heap_space_size_total_bytes", "nodejs_heap_space_size_used_bytes", "nodejs_heap_space_size_available_bytes"];

/**
 * The process_* and nodejs_* defaults are read at most this often; the app's values and the HTTP
 * series are current on every scrape. Reading the defaults (/proc/self/fd, /proc/self/status,
 * the heap's size) was half of a scrape's CPU (docs/reference/metrics.md); a Prometheus scraping
 * every second or less often still gets a fresh reading each time.
 */
export const DEFAULTS_MAX_AGE_MS = 500;

/**
 * `read`'s value, shared by every call until it is DEFAULTS_MAX_AGE_MS old: a storm of scrapes
 * costs one reading per interval. A reading that fails, or resolves with `keep: false`, is shared
 * only by the calls that arrived while it ran.
 */
export function sharedReading<T>(read: () => Promise<{ value: T; keep?: boolean }>, now: () => number = () => performance.now()): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const t = now();
    if (last && t - last.at < DEFAULTS_MAX_AGE_MS) return last.value;
    const reading = read();
    const entry = { at: t, value: reading.then((r) => r.value) };
    last = entry;
    const drop = () => {
      if (last === entry) last = undefined;
    };
    reading.then((r) => r.keep === false && drop(), drop);
    return entry.value;
  };
}

/** Prometheus text format 0.0.4, as prom-client's registry announces it. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** One unlabelled counter or gauge. */
export class Value {
  value = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
  ) {}
  set(v: number) {
    this.value = v;
  }
  inc(n = 1) {
    this.value += n;
  }
  exposition(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n${this.name} ${this.value}\n`;
  }
}

/**
 * Prometheus metrics of one app instance (its own values, so tests can build many apps). The
 * app's counters and gauges are plain numbers written at scrape time, like the HTTP series;
 * prom-client, for the process_* and nodejs_* defaults, is imported on the first scrape, not at
 * start: evaluating it and collectDefaultMetrics were 13% of the binary's spawn-to-first-200,
 * measured interleaved (docs/reference/benchmarks-and-drills.md). Everything they report is read at scrape time or
 * counted by the OS since the process started, except GC durations and event-loop lag, which
 * count from the first scrape.
 */
export class Metrics {
  /** http_requests_total and http_request_duration_seconds (see src/http/request-metrics.ts). */
  readonly http = new HttpMetrics();
  readonly contentType = CONTENT_TYPE;
  readonly visits = new Value("bun_k8s_visits_served_total", "Visits counted by this replica (GET /visits)", "counter");
  readonly ready = new Value("bun_k8s_ready", "1 while GET /ready answers 200", "gauge");
  readonly live = new Value("bun_k8s_live", "1 while GET /health answers 200", "gauge");
  readonly storeUp = new Value("bun_k8s_store_up", "1 when the shared store answered its last ping", "gauge");
  readonly faultsActive = new Value("bun_k8s_faults_active", "1 while fault injection is on", "gauge");
  readonly websocketsOpen = new Value("bun_k8s_websockets_open", "Open /ws/echo sockets", "gauge");
  /** bun_k8s_faults_injected_total by kind; a kind shows once it has been counted. */
  readonly faultsInjected = new Map<"error" | "latency", number>();
  /** Totals this replica reports in its heartbeat (/replicas). */
  requestsServed = 0;
  visitsServed = 0;
  readonly #defaultMetrics: boolean;
  #defaults?: Promise<Defaults>;
  /** The defaults' text, read again once it is DEFAULTS_MAX_AGE_MS old. */
  readonly #defaultsText: () => Promise<string>;

  constructor(options: { defaultMetrics?: boolean; now?: () => number } = {}) {
    this.#defaultMetrics = options.defaultMetrics !== false;
    // A reading before the event loop's first sample (mean and stddev NaN) is not kept.
    this.#defaultsText = sharedReading(async () => {
      const { registry, eventLoop } = await this.#loadDefaults()!;
      const keep = eventLoop.sampled();
      return { value: await registry.metrics(), keep };
    }, options.now);
  }

  /** prom-client's registry with the default metrics, loaded on first use (undefined when off). */
  defaults(): Promise<Registry> | undefined {
    return this.#loadDefaults()?.then((d) => d.registry);
  }

  #loadDefaults(): Promise<Defaults> | undefined {
    if (!this.#defaultMetrics) return undefined;
    return (this.#defaults ??= loadDefaults());
  }

  recordFault(kind: "error" | "latency") {
    this.faultsInjected.set(kind, (this.faultsInjected.get(kind) ?? 0) + 1);
  }

  recordRequest(method: string, route: string, status: number, seconds: number) {
    this.requestsServed++;
    this.http.record(method, route, status, seconds);
  }

  /** Everything /metrics serves: the process defaults, the app's values and the HTTP series. */
  async exposition(): Promise<string> {
    const defaults = this.#defaultMetrics ? await this.#defaultsText() : "";
    const faults = [
      "# HELP bun_k8s_faults_injected_total Faults injected into application routes (POST /faults/enable or FAULT_* at start), by kind: error or latency",
      "# TYPE bun_k8s_faults_injected_total counter",
      ...[...this.faultsInjected].map(([kind, n]) => `bun_k8s_faults_injected_total{kind="${kind}"} ${n}`),
    ].join("\n");
    const app = [this.visits, this.ready, this.live, this.storeUp].map((v) => v.exposition()).join("\n") + "\n" + faults + "\n\n" +
      [this.faultsActive, this.websocketsOpen].map((v) => v.exposition()).join("\n");
    return (defaults ? defaults + "\n" : "") + app + "\n" + this.http.exposition();
  }

  recordVisit() {
    this.visitsServed++;
    this.visits.inc();
  }
}

interface Defaults {
  registry: Registry;
  eventLoop: { sampled: () => boolean };
}

async function loadDefaults(): Promise<Defaults> {
  const { Gauge, Registry, collectDefaultMetrics } = await import("prom-client");
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Bun answers v8.getHeapSpaceStatistics() with zeros for every space but old_space (the heap
  // total, already in nodejs_heap_size_*_bytes), and the call cost most of a scrape: 8.6 -> 0.9 ms
  // per registry.metrics() without these three, measured in-process (docs/reference/metrics.md).
  for (const name of HEAP_SPACE_METRICS) registry.removeSingleMetric(name);
  // Its event-loop lag collector was most of what remained (src/event-loop-lag.ts).
  const eventLoop = registerEventLoopLag(registry, Gauge);
  return { registry, eventLoop };
}
