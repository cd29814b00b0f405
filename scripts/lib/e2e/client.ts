// HTTP client for the suite. Each request opens a fresh connection by default, so a Service
// spreads requests across pods (a reused keep-alive connection would stick to one pod).

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  json: unknown;
  ms: number;
}

export interface RequestOptions {
  body?: unknown;
  /** Raw body (sent as is, with the given content type). */
  raw?: { text: string; contentType: string };
  cookie?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Reuse connections (default false: `Connection: close`). */
  keepAlive?: boolean;
  signal?: AbortSignal;
}

export async function request(baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  if (!options.keepAlive) headers.connection = "close";
  if (options.cookie) headers.cookie = options.cookie;
  let body: string | undefined;
  if (options.raw) {
    body = options.raw.text;
    headers["content-type"] = options.raw.contentType;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] = "application/json";
  }
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const started = performance.now();
  const res = await fetch(new URL(path, baseUrl), {
    method,
    headers,
    body,
    signal,
    redirect: "manual",
    keepalive: options.keepAlive ?? false,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json, ms: Math.round(performance.now() - started) };
}

export const get = (base: string, path: string, o?: RequestOptions) => request(base, "GET", path, o);
export const post = (base: string, path: string, o?: RequestOptions) => request(base, "POST", path, o);
export const del = (base: string, path: string, o?: RequestOptions) => request(base, "DELETE", path, o);

/** The `name=value` pair of a Set-Cookie header for `name`, and its attributes. */
export function readCookie(headers: Headers, name: string): { pair: string; value: string; attributes: string[] } | null {
  for (const line of headers.getSetCookie()) {
    const [pair = "", ...attributes] = line.split(";").map((s) => s.trim());
    const eq = pair.indexOf("=");
    if (eq > 0 && pair.slice(0, eq) === name) {
      return { pair, value: pair.slice(eq + 1), attributes };
    }
  }
  return null;
}

/** The `server` field of a JSON reply. */
export function serverOf(reply: Reply): string | undefined {
  const s = (reply.json as { server?: unknown } | undefined)?.server;
  return typeof s === "string" ? s : undefined;
}

export interface Traffic {
  /** Stops the loops and resolves with the totals. */
  stop(): Promise<TrafficTotals>;
  readonly totals: TrafficTotals;
}

export interface TrafficTotals {
  sent: number;
  ok: number;
  /** Requests that failed even after `retries` retries. */
  failed: number;
  /** Individual failed attempts (errors or non-2xx), including those a retry recovered. */
  failedAttempts: number;
  servers: Map<string, number>;
  errors: string[];
}

/**
 * Steady traffic: `workers` loops each sending GET `path`, `intervalMs` apart. A request counts
 * as failed when it and its `retries` retries all fail (retries 0: every failure counts).
 */
export function startTraffic(baseUrl: string, options: { path?: string; workers?: number; intervalMs?: number; retries?: number; timeoutMs?: number } = {}): Traffic {
  const { path = "/", workers = 4, intervalMs = 50, retries = 0, timeoutMs = 5000 } = options;
  const totals: TrafficTotals = { sent: 0, ok: 0, failed: 0, failedAttempts: 0, servers: new Map(), errors: [] };
  let running = true;
  const loop = async () => {
    while (running) {
      totals.sent++;
      let done = false;
      for (let attempt = 0; attempt <= retries && !done; attempt++) {
        try {
          const r = await get(baseUrl, path, { timeoutMs });
          if (r.status >= 200 && r.status < 300) {
            done = true;
            const s = serverOf(r);
            if (s) totals.servers.set(s, (totals.servers.get(s) ?? 0) + 1);
          } else {
            totals.failedAttempts++;
            if (totals.errors.length < 20) totals.errors.push(`${new Date().toISOString()} ${r.status} ${r.text.slice(0, 120)}`);
          }
        } catch (err) {
          totals.failedAttempts++;
          if (totals.errors.length < 20) totals.errors.push(`${new Date().toISOString()} ${err instanceof Error ? err.message : String(err)}`);
        }
        if (!done && attempt < retries) await Bun.sleep(200);
      }
      if (done) totals.ok++;
      else totals.failed++;
      await Bun.sleep(intervalMs);
    }
  };
  const loops = Array.from({ length: workers }, loop);
  return {
    totals,
    async stop() {
      running = false;
      await Promise.all(loops);
      return totals;
    },
  };
}

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes (then throws `message`). */
export async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs: number, message: string, everyMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    await Bun.sleep(everyMs);
  }
  const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
  throw new Error(`${message} within ${Math.round(timeoutMs / 1000)}s${why}`);
}
