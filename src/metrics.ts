import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

type HttpLabels = "method" | "route" | "status";

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"]);

/** Prometheus metrics of one app instance (its own registry, so tests can build many apps). */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<HttpLabels>;
  readonly httpDuration: Histogram<HttpLabels>;
  readonly visits: Counter;
  readonly ready: Gauge;
  readonly live: Gauge;
  readonly storeUp: Gauge;
  readonly faultsInjected: Counter<"kind">;
  readonly faultsActive: Gauge;
  /** Totals this replica reports in its heartbeat (/replicas). */
  requestsServed = 0;
  visitsServed = 0;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: "http_requests_total",
      help: "HTTP requests answered, by method, route template and status",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.httpDuration = new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request latency in seconds, by method, route template and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.visits = new Counter({
      name: "bun_k8s_visits_served_total",
      help: "Visits counted by this replica (GET /visits)",
      registers,
    });
    this.ready = new Gauge({ name: "bun_k8s_ready", help: "1 while GET /ready answers 200", registers });
    this.live = new Gauge({ name: "bun_k8s_live", help: "1 while GET /health answers 200", registers });
    this.storeUp = new Gauge({
      name: "bun_k8s_store_up",
      help: "1 when the shared store answered its last ping",
      registers,
    });
    this.faultsInjected = new Counter({
      name: "bun_k8s_faults_injected_total",
      help: "Faults injected into application routes (POST /faults/enable or FAULT_* at start), by kind: error or latency",
      labelNames: ["kind"],
      registers,
    });
    this.faultsActive = new Gauge({ name: "bun_k8s_faults_active", help: "1 while fault injection is on", registers });
  }

  recordFault(kind: "error" | "latency") {
    this.faultsInjected.inc({ kind });
  }

  // prom-client hashes the label object on every inc/observe; the labelled children are cached
  // instead (about a fifth of the cost of a GET /health). Unknown methods share one label so odd
  // requests cannot grow the series without bound; routes are templates and statuses 100-599.
  #series = new Map<string, { count: { inc(): void }; latency: { observe(value: number): void } }>();

  recordRequest(method: string, route: string, status: number, seconds: number) {
    this.requestsServed++;
    const m = KNOWN_METHODS.has(method) ? method : "OTHER";
    const key = `${m} ${status} ${route}`;
    let series = this.#series.get(key);
    if (!series) {
      const labels = { method: m, route, status: String(status) };
      series = { count: this.httpRequests.labels(labels), latency: this.httpDuration.labels(labels) };
      this.#series.set(key, series);
    }
    series.count.inc();
    series.latency.observe(seconds);
  }

  recordVisit() {
    this.visitsServed++;
    this.visits.inc();
  }
}
