// A light prober for drills and tests: GETs one URL every intervalMs and records status and latency.
// Bounded: stops on stop() or after maxMs.
import { percentile, round } from "./stats";

export interface ProbeStats {
  count: number;
  statuses: Record<string, number>;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarizeProbe(samples: { status: number; ms: number }[]): ProbeStats {
  const statuses: Record<string, number> = {};
  let errors = 0;
  for (const s of samples) {
    if (s.status === 0) errors++;
    else statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  }
  const ms = samples.map((s) => s.ms);
  return {
    count: samples.length,
    statuses,
    errors,
    p50Ms: round(percentile(ms, 50)),
    p99Ms: round(percentile(ms, 99)),
    maxMs: round(Math.max(0, ...ms)),
  };
}

export function startProbe(url: string, intervalMs = 50, maxMs = 120_000, timeoutMs = 5000) {
  const samples: { t: number; status: number; ms: number }[] = [];
  let running = true;
  const t0 = performance.now();
  const loop = (async () => {
    while (running && performance.now() - t0 < maxMs) {
      const start = performance.now();
      let status = 0;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = 0;
      }
      samples.push({ t: start - t0, status, ms: performance.now() - start });
      const wait = intervalMs - (performance.now() - start);
      if (wait > 0) await Bun.sleep(wait);
    }
  })();
  return {
    samples,
    async stop() {
      running = false;
      await loop;
      return summarizeProbe(samples);
    },
  };
}

/** Polls until `url` answers `status` (default 200); returns ms waited, or -1 after maxMs. */
export async function waitForStatus(url: string, maxMs: number, status = 200, intervalMs = 20): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === status) return round(performance.now() - t0, 1);
    } catch {
      // keep polling
    }
    await Bun.sleep(intervalMs);
  }
  return -1;
}

/** One timed GET: status (0 on network error) and ms. */
export async function timedGet(url: string, init: RequestInit = {}, timeoutMs = 10_000): Promise<{ status: number; ms: number; body: string }> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    return { status: res.status, ms: round(performance.now() - t0, 1), body };
  } catch (err) {
    return { status: 0, ms: round(performance.now() - t0, 1), body: String(err) };
  }
}

/**
 * A request that is in flight for `holdMs`: sends the headers and half of a JSON body on a raw
 * TCP connection, waits, then sends the rest. Resolves with the HTTP status (0 when the
 * connection failed or closed without an answer) and the total ms. Bounded by holdMs + 10 s.
 */
export function slowPost(host: string, port: number, path: string, json: unknown, holdMs: number): Promise<{ status: number; ms: number }> {
  const { connect } = require("node:net") as typeof import("node:net");
  const body = JSON.stringify(json);
  const half = Math.floor(body.length / 2);
  const t0 = performance.now();
  return new Promise((resolvePromise) => {
    let got = "";
    let settled = false;
    const done = (status: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      socket.destroy();
      resolvePromise({ status, ms: round(performance.now() - t0, 1) });
    };
    const socket = connect({ host, port });
    const guard = setTimeout(() => done(0), holdMs + 10_000);
    socket.on("connect", () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n` +
          body.slice(0, half),
      );
      setTimeout(() => socket.write(body.slice(half)), holdMs);
    });
    socket.on("data", (d) => {
      got += d.toString();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
      if (m && got.includes("\r\n\r\n")) done(Number(m[1]));
    });
    socket.on("error", () => done(0));
    socket.on("close", () => done(0));
  });
}
