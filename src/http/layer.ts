// The outermost layer: every response, from a route, an error, a fault or a size check, passes
// here once. It times the request, sets the security headers, refuses cross-site requests that
// change state (src/http/cross-origin.ts), enforces the body-size limit,
// renders every error as an ErrorBody, and records the RED metrics and the access log line.
//
// A hook that returns early from onRequest skips Elysia's mapResponse, so nothing in the app
// answers from onRequest: checks throw an HttpError instead, and the error path is recorded.
import { ElysiaCustomStatusResponse, type AnyElysia, type Context } from "elysia";
import type { AppDeps } from "../deps";
import { StoreUnavailableError } from "../store/types";
import { crossOriginRefusal, parseTrustedOrigins } from "./cross-origin";
import { HttpError, REDIS_UNAVAILABLE, type ErrorBody } from "./errors";
import { parseDecimalInt } from "./numbers";

/** Set on every response; a module's own Response headers win (the dashboard sends its CSP). */
export const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
} as const;

const started = Symbol("startedAt");
type Timed = { [started]?: number };

// A request handled a second time (after an injected delay) is timed from its first arrival.
const arrivals = new WeakMap<Request, number>();
let redispatching = 0;

/** Handles `request` again on `app`, timing it from `arrivedAt`; used by fault injection. */
export async function redispatch(app: AnyElysia, request: Request, arrivedAt: number): Promise<Response> {
  arrivals.set(request, arrivedAt);
  redispatching++;
  try {
    return await app.handle(request);
  } finally {
    redispatching--;
  }
}

function statusOf(value: unknown): number {
  return typeof value === "number" ? value : Number(value) || 200;
}

/** Route templates of `app`, for requests rejected before Elysia routed them (413, faults). */
function templateMatcher(app: AnyElysia) {
  let table: Array<{ method: string; path: string; pattern: RegExp }> | undefined;
  return (method: string, path: string): string | undefined => {
    table ??= app.routes.map((r) => ({
      method: r.method,
      path: r.path,
      pattern: new RegExp(
        "^" + r.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[^/]+/g, "[^/]+").replace(/\*/g, ".*") + "/?$",
      ),
    }));
    for (const r of table) if ((r.method === method || r.method === "ALL") && r.pattern.test(path)) return r.path;
    return undefined;
  };
}

function validationSummary(error: unknown): unknown {
  const all = (error as { all?: Array<{ path?: string; summary?: string; message?: string; schema?: { error?: unknown } }> }).all;
  if (Array.isArray(all) && all.length > 0) {
    return all.slice(0, 5).map((e) => ({
      path: e.path || "/",
      message: typeof e.schema?.error === "string" ? e.schema.error : (e.summary ?? e.message),
    }));
  }
  return error instanceof Error ? error.message : String(error);
}

/** Installed first on the root app (a function plugin: it needs the root's route list). */
export const httpLayer = (deps: AppDeps) => <A extends AnyElysia>(app: A): A => {
  const { config, logger, metrics } = deps;
  const accessLog = logger.enabled("debug");
  const templateOf = templateMatcher(app);
  const trustedOrigins = parseTrustedOrigins(config.trustedOrigins);

  const onRequest = (ctx: Context & Timed) => {
    ctx[started] = redispatching > 0 ? (arrivals.get(ctx.request) ?? performance.now()) : performance.now();
    Object.assign(ctx.set.headers, SECURITY_HEADERS);
    const refusal = crossOriginRefusal(ctx.request, trustedOrigins);
    if (refusal) {
      throw new HttpError(403, "cross-origin request refused", {
        detail: `a state-changing request from another site: ${refusal.reason}`,
        hint: "send it from this origin (the dashboard), from curl or a script, or add the page's origin to TRUSTED_ORIGINS",
      });
    }
    // GET and HEAD carry no body: skipping the header lookup keeps probes cheap. Bodies without
    // Content-Length are capped by Bun's maxRequestBodySize (main.ts).
    const method = ctx.request.method;
    if (method === "GET" || method === "HEAD") return;
    const declared = ctx.request.headers.get("content-length");
    if (declared === null) return;
    const length = parseDecimalInt(declared);
    if (length === null || length < 0) {
      throw new HttpError(400, "invalid content-length", { detail: "Content-Length must be a decimal number of bytes" });
    }
    if (length > config.maxBodyBytes) {
      throw new HttpError(413, "request body too large", { detail: { max_bytes: config.maxBodyBytes, bytes: length } });
    }
  };

  const onError = ({ error, code, set }: { error: unknown; code: unknown; set: Context["set"] }): ErrorBody => {
    // Elysia wraps whatever a body parser throws in a ParseError (400); a 408 or 413 from
    // src/http/body.ts stays itself.
    const cause = code === "PARSE" ? (error as { cause?: unknown }).cause : undefined;
    if (cause instanceof HttpError) error = cause;
    if (error instanceof HttpError) {
      set.status = error.status;
      if (error.headers) Object.assign(set.headers, error.headers);
      return error.body;
    }
    if (error instanceof StoreUnavailableError) {
      logger.warn("store unavailable", { error: error.message });
      set.status = 503;
      return REDIS_UNAVAILABLE;
    }
    switch (code) {
      case "NOT_FOUND":
        set.status = 404;
        return { error: "not found" };
      case "PARSE":
        set.status = 400;
        return { error: "malformed request body", hint: "send JSON with Content-Type: application/json" };
      case "VALIDATION":
        set.status = 422;
        return { error: "invalid request", detail: validationSummary(error) };
    }
    const status = error && typeof error === "object" && "status" in error ? statusOf(error.status) : 500;
    if (status >= 400 && status < 500) {
      set.status = status;
      return { error: error instanceof Error ? error.message : "bad request" };
    }
    logger.error("unhandled error", { error: error instanceof Error ? error.stack : String(error) });
    set.status = 500;
    return { error: "internal error" };
  };

  // Returns the response unchanged: Elysia 1.4's error path replaces the response with whatever
  // a mapResponse hook returns, even undefined.
  const record = (ctx: Context & Timed & { responseValue?: unknown }) => {
    const value = ctx.responseValue;
    const start = ctx[started];
    if (start === undefined) return value;
    const seconds = (performance.now() - start) / 1000;
    const status =
      value instanceof Response
        ? value.status
        : value instanceof ElysiaCustomStatusResponse
          ? value.code
          : statusOf(ctx.set.status);
    const method = ctx.request.method;
    const route = ctx.route || (status === 404 ? undefined : templateOf(method, ctx.path)) || "unmatched";
    if (config.metricsEnabled) metrics.recordRequest(method, route, status, seconds);
    else metrics.requestsServed++;
    if (accessLog) {
      logger.debug("request", { method, path: ctx.path, route, status, ms: +(seconds * 1000).toFixed(2) });
    }
    return value;
  };

  // isAsync/hasReturn are given so Elysia does not guess them from the (minified) source text and
  // keeps compiling sync routes as sync. Metrics are recorded while the response is mapped, not in
  // onAfterResponse (a setImmediate and a closure per request); latency is therefore the time to a
  // ready response (for streams, to the first byte).
  (app as AnyElysia)
    .on("request", { fn: onRequest, isAsync: false, hasReturn: false } as never)
    .onError(onError as never)
    .on("mapResponse", { fn: record, isAsync: false, hasReturn: true } as never);
  return app;
};
