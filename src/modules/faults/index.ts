import { Elysia, t, type AnyElysia } from "elysia";
import type { AppDeps } from "../../deps";
import { HttpError } from "../../http/errors";
import { deadlineParser } from "../../http/body";
import { redispatch } from "../../http/layer";
import { assertChaosEnabled } from "../chaos";
import {
  FAULT_EXEMPT_PREFIXES,
  FaultInjector,
  injectsSomething,
  isFaultExempt,
  pathOf,
  settingsFromConfig,
  type FaultSettings,
} from "./injector";

const tags = ["faults"];
const MAX_LATENCY_MS = 60_000;

export { FaultInjector, isFaultExempt, pathOf } from "./injector";

interface HookContext {
  request: Request;
  set: { status?: number | string; headers: Record<string, string | number> };
}

/**
 * Fault injection for application routes (mesh, retry and error-budget demos).
 *
 * Returned as a function plugin: it installs one request hook on the app that uses it (the
 * hook needs that app to finish a delayed request) and mounts the /faults routes.
 * Cost while faults are off: one property read per request. The hook is registered with
 * isAsync=false so Elysia keeps compiling every route as a synchronous handler.
 */
export const faultsModule = (deps: AppDeps) => {
  const { config, logger, metrics, hostname } = deps;
  const defaults = settingsFromConfig(config);
  const injector = new FaultInjector(defaults, metrics);
  if (injector.active) logger.warn("fault injection is on at start", describe(injector.settings));

  // Requests handled again after an injected delay, with what was decided on their first pass.
  const delayed = new WeakMap<Request, { delayMs: number; fail: boolean }>();
  let root: AnyElysia | undefined;
  let pendingDelays = 0;

  // Errors are thrown, never returned: the HTTP layer renders and counts them like any other error.
  const injectedError = () =>
    new HttpError(injector.settings.status, "injected fault", {
      detail: { status: injector.settings.status },
      hint: "fault injection is on: POST /faults/disable",
      headers: { "x-fault-injected": "error" },
    });

  const intercept = (request: Request, set: HookContext["set"]): unknown => {
    const again = delayed.get(request);
    if (again) {
      set.headers["x-fault-delay-ms"] = String(again.delayMs);
      if (again.fail) throw injectedError();
      return undefined;
    }
    if (isFaultExempt(pathOf(request.url))) return undefined;
    const upgrade = request.headers.get("upgrade") !== null;
    const { delayMs, fail } = injector.decide(!upgrade);
    if (delayMs > 0 && root) {
      const arrivedAt = performance.now();
      const app = root;
      // The answer comes from the second pass, which the HTTP layer times from arrivedAt.
      pendingDelays++;
      return Bun.sleep(delayMs)
        .then(() => {
          delayed.set(request, { delayMs, fail });
          return redispatch(app, request, arrivedAt);
        })
        .finally(() => pendingDelays--);
    }
    if (fail) throw injectedError();
    return undefined;
  };
  // Destructured on purpose: Elysia infers from this source which context fields every request
  // needs; passing the whole context on would make it build cookies, headers and more for all routes.
  const faultHook = ({ request, set }: HookContext) => (injector.active || pendingDelays > 0 ? intercept(request, set) : undefined);

  const state = () => ({
    enabled: injector.active,
    error_rate: injector.settings.errorRate,
    status: injector.settings.status,
    latency_min_ms: injector.settings.latencyMinMs,
    latency_max_ms: injector.settings.latencyMaxMs,
    enabled_at: injector.enabledAt?.toISOString() ?? null,
    injected: { ...injector.injected },
    exempt: FAULT_EXEMPT_PREFIXES,
    server: hostname,
  });

  const routes = new Elysia({ name: "faults" })
    .get("/faults", () => state(), {
      detail: { tags, summary: "Fault injection settings and counts of injected faults" },
    })
    .post("/faults/enable", ({ body }) => {
      assertChaosEnabled(config);
      const settings: FaultSettings = {
        errorRate: body?.error_rate ?? defaults.errorRate,
        status: body?.status ?? defaults.status,
        latencyMinMs: body?.latency_min_ms ?? defaults.latencyMinMs,
        latencyMaxMs: body?.latency_max_ms ?? Math.max(defaults.latencyMaxMs, body?.latency_min_ms ?? 0),
      };
      if (settings.latencyMinMs > settings.latencyMaxMs) {
        throw new HttpError(422, "latency_min_ms is above latency_max_ms", {
          detail: { latency_min_ms: settings.latencyMinMs, latency_max_ms: settings.latencyMaxMs },
        });
      }
      if (!injectsSomething(settings)) {
        throw new HttpError(422, "nothing to inject", { hint: "set error_rate above 0 or latency_max_ms above 0" });
      }
      injector.enable(settings);
      logger.warn("fault injection enabled", describe(settings));
      return state();
    }, {
      parse: deadlineParser({ maxBytes: config.maxBodyBytes, timeoutSeconds: config.bodyTimeoutSeconds }),
      body: t.Optional(
        t.Object({
          error_rate: t.Optional(t.Number({ minimum: 0, maximum: 1, description: "share of requests that fail, 0 to 1 (default FAULT_ERROR_RATE)" })),
          status: t.Optional(t.Integer({ minimum: 400, maximum: 599, description: "status of injected errors (default FAULT_STATUS, 503)" })),
          latency_min_ms: t.Optional(t.Integer({ minimum: 0, maximum: MAX_LATENCY_MS, description: "least added latency (default FAULT_LATENCY_MIN_MS)" })),
          latency_max_ms: t.Optional(t.Integer({ minimum: 0, maximum: MAX_LATENCY_MS, description: "most added latency (default FAULT_LATENCY_MAX_MS, or latency_min_ms)" })),
        }, { additionalProperties: false }),
      ),
      detail: {
        tags,
        summary: "Turn on fault injection for application routes (probes, /metrics, /faults, /openapi and /ui stay healthy)",
      },
    })
    .post("/faults/disable", () => {
      if (injector.active) logger.info("fault injection disabled");
      injector.disable();
      return state();
    }, { detail: { tags, summary: "Turn off fault injection" } });

  return <A extends AnyElysia>(app: A): A => {
    root = app;
    // isAsync/hasReturn given explicitly: Elysia would otherwise guess from the source text.
    (app as AnyElysia).on("request", { fn: faultHook, isAsync: false, hasReturn: true } as never).use(routes);
    return app;
  };
};

function describe(s: FaultSettings) {
  return { error_rate: s.errorRate, status: s.status, latency_min_ms: s.latencyMinMs, latency_max_ms: s.latencyMaxMs };
}
