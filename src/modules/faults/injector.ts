// Fault injection state and the per-request decision, kept free of HTTP framework details.
import type { Config } from "../../config";
import type { Metrics } from "../../metrics";

export interface FaultSettings {
  /** Share of application requests answered with `status` instead of the real response (0 to 1). */
  errorRate: number;
  /** Status of injected errors (400 to 599). */
  status: number;
  /** Added latency range in milliseconds; a uniform draw per request. 0/0 adds none. */
  latencyMinMs: number;
  latencyMaxMs: number;
}

/** Paths that never get faults: probes, metrics, the fault controls, API docs and the dashboard. */
export const FAULT_EXEMPT_PREFIXES = ["/health", "/ready", "/metrics", "/faults", "/openapi", "/ui"] as const;

/** Path of an absolute request URL, without the query string. */
export function pathOf(url: string): string {
  const scheme = url.indexOf("://");
  const start = url.indexOf("/", scheme === -1 ? 0 : scheme + 3);
  if (start === -1) return "/";
  const query = url.indexOf("?", start);
  return query === -1 ? url.slice(start) : url.slice(start, query);
}

/** True for /health, /health/..., /ready..., /metrics, /faults..., /openapi..., /ui... */
export function isFaultExempt(path: string): boolean {
  for (const prefix of FAULT_EXEMPT_PREFIXES) {
    if (path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47 /* / */)) return true;
  }
  return false;
}

export function settingsFromConfig(config: Config): FaultSettings {
  return {
    errorRate: config.faultErrorRate,
    status: config.faultStatus,
    latencyMinMs: config.faultLatencyMinMs,
    latencyMaxMs: config.faultLatencyMaxMs,
  };
}

/** Does this setting inject anything at all? */
export function injectsSomething(s: FaultSettings): boolean {
  return s.errorRate > 0 || s.latencyMaxMs > 0;
}

export interface FaultDecision {
  /** Milliseconds to wait before answering (0: none). */
  delayMs: number;
  /** Answer with the fault status instead of the real response. */
  fail: boolean;
}

/**
 * The fault switch. `active` is a plain field so the request hook costs one property read
 * while faults are off.
 */
export class FaultInjector {
  active = false;
  settings: FaultSettings;
  readonly injected = { error: 0, latency: 0 };
  enabledAt: Date | null = null;

  constructor(
    initial: FaultSettings,
    private readonly metrics: Metrics,
    private readonly random: () => number = Math.random,
  ) {
    this.settings = { ...initial };
    if (injectsSomething(initial)) this.enable(initial);
    else this.metrics.faultsActive.set(0);
  }

  enable(settings: FaultSettings) {
    this.settings = { ...settings };
    this.active = true;
    this.enabledAt = new Date();
    this.metrics.faultsActive.set(1);
  }

  disable() {
    this.active = false;
    this.enabledAt = null;
    this.metrics.faultsActive.set(0);
  }

  /** Draws the fault for one request and counts it. `canDelay` false: errors only (WebSocket upgrades). */
  decide(canDelay = true): FaultDecision {
    const s = this.settings;
    const fail = s.errorRate > 0 && this.random() < s.errorRate;
    const delayMs =
      canDelay && s.latencyMaxMs > 0
        ? s.latencyMinMs + Math.floor(this.random() * (s.latencyMaxMs - s.latencyMinMs + 1))
        : 0;
    if (fail) this.count("error");
    if (delayMs > 0) this.count("latency");
    return { delayMs, fail };
  }

  count(kind: "error" | "latency") {
    this.injected[kind]++;
    this.metrics.recordFault(kind);
  }
}
