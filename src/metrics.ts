import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { HttpMetrics } from "./http/request-metrics";

/** prom-client defaults that are left out: see the constructor. */
export const HEAP_SPACE_METRICS = ["nodejs_heap_space_size_total_bytes", "nodejs_heap_space_size_used_bytes", "nodejs_heap_space_size_available_bytes"];

/** Prometheus metrics of one app instance (its own registry, so tests can build many apps). */
export class Metrics {
  readonly registry = new Registry();
  /** http_requests_total and http_request_duration_seconds (see src/http/request-metrics.ts). */
  readonly http = new HttpMetrics();
  readonly visits: Counter;
  readonly ready: Gauge;
  readonly live: Gauge;
  readonly storeUp: Gauge;
  readonly faultsInjected: Counter<"kind">;
  readonly faultsActive: Gauge;
  readonly websocketsOpen: Gauge;
  /** Totals this replica reports in its heartbeat (/replicas). */
  requestsServed = 0;
  visitsServed = 0;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      // Bun answers v8.getHeapSpaceStatistics() with zeros for every space but old_space (the
      // heap total, already in nodejs_heap_size_*_bytes), and the call cost most of a scrape:
      // 8.6 -> 0.9 ms per registry.metrics() without these three (docs/reference/metrics.md).
      for (const name of HEAP_SPACE_METRICS) this.registry.removeSingleMetric(name);
    }
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
    this.websocketsOpen = new Gauge({ name: "bun_k8s_websockets_open", help: "Open /ws/echo sockets", registers });
  }

  recordFault(kind: "error" | "latency") {
    this.faultsInjected.inc({ kind });
  }

  recordRequest(method: string, route: string, status: number, seconds: number) {
    this.requestsServed++;
    this.http.record(method, route, status, seconds);
  }

  /** Everything /metrics serves: prom-client's registry plus the HTTP series. */
  async exposition(): Promise<string> {
    return (await this.registry.metrics()) + "\n" + this.http.exposition();
  }

  recordVisit() {
    this.visitsServed++;
    this.visits.inc();
  }
}
