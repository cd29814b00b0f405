// Bad input storm: malformed requests of many kinds (bad JSON, huge bodies, long and odd keys,
// odd methods, invalid numbers, garbage cookies, raw garbage on the socket). Used by
// `bun run drill` (thousands) and tests/system/process.test.ts (a few hundred).
import { connect } from "node:net";

export interface StormRequest {
  kind: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

const BIG = "x".repeat(2 * 1024 * 1024);
const LONG_KEY = "k".repeat(5000);
const JSON_CT = { "content-type": "application/json" };

/** The catalogue; the storm cycles through it. No entry may start real stress work. */
export const CATALOGUE: StormRequest[] = [
  { kind: "bad json", method: "POST", path: "/kv/storm", headers: JSON_CT, body: "{" },
  { kind: "bad json", method: "POST", path: "/kv/storm", headers: JSON_CT, body: '{"value":' },
  { kind: "bad json", method: "POST", path: "/kv/storm", headers: JSON_CT, body: "null" },
  { kind: "bad json", method: "POST", path: "/kv/storm", headers: JSON_CT, body: "[1,2,3]" },
  { kind: "bad json", method: "POST", path: "/kv/storm", headers: JSON_CT, body: '{"value":1}' },
  { kind: "bad json", method: "POST", path: "/kv/storm", headers: JSON_CT, body: '{"value":{"nested":[{}]}}' },
  { kind: "bad json", method: "POST", path: "/kv/storm", headers: JSON_CT, body: "\u0000\u0001\u0002" },
  { kind: "bad json", method: "POST", path: "/kv/storm", headers: { "content-type": "text/plain" }, body: "value=1" },
  { kind: "bad json", method: "POST", path: "/kv/storm", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "value=%ZZ" },
  { kind: "bad json", method: "POST", path: "/login", headers: JSON_CT, body: "{'username':'admin'}" },
  { kind: "bad json", method: "POST", path: "/login", headers: JSON_CT, body: '{"username":123,"password":[]}' },
  { kind: "bad json", method: "POST", path: "/login", headers: JSON_CT, body: JSON.stringify({ username: "u".repeat(10_000), password: "p" }) },
  { kind: "huge body", method: "POST", path: "/kv/storm", headers: JSON_CT, body: `{"value":"${BIG}"}` },
  { kind: "huge body", method: "POST", path: "/login", headers: JSON_CT, body: BIG },
  { kind: "huge body", method: "POST", path: "/kv/storm", headers: JSON_CT, body: JSON.stringify({ value: "v".repeat(200_000) }) },
  { kind: "long key", method: "GET", path: `/kv/${LONG_KEY}` },
  { kind: "long key", method: "POST", path: `/kv/${LONG_KEY}`, headers: JSON_CT, body: '{"value":"x"}' },
  { kind: "odd key", method: "GET", path: "/kv/%00" },
  { kind: "odd key", method: "GET", path: "/kv/%ff%fe" },
  { kind: "odd key", method: "GET", path: "/kv/%E2%82" },
  { kind: "odd key", method: "GET", path: "/kv/..%2F..%2Fetc%2Fpasswd" },
  { kind: "odd key", method: "GET", path: "/kv/*" },
  { kind: "odd key", method: "DELETE", path: "/kv/%0d%0aSet-Cookie:x=1" },
  { kind: "odd key", method: "POST", path: "/kv/%F0%9F%92%A5", headers: JSON_CT, body: '{"value":"\\ud800"}' },
  { kind: "odd method", method: "PATCH", path: "/kv/storm" },
  { kind: "odd method", method: "PUT", path: "/visits" },
  { kind: "odd method", method: "OPTIONS", path: "/" },
  { kind: "odd method", method: "PROPFIND", path: "/health" },
  { kind: "odd method", method: "DELETE", path: "/health" },
  { kind: "odd method", method: "HEAD", path: "/kv/storm" },
  { kind: "invalid number", method: "GET", path: "/stress?seconds=abc" },
  { kind: "invalid number", method: "GET", path: "/stress?seconds=-1" },
  { kind: "invalid number", method: "GET", path: "/stress?seconds=NaN" },
  { kind: "invalid number", method: "GET", path: "/stress?seconds=0x2" },
  { kind: "invalid number", method: "GET", path: "/stress?seconds=%20" },
  { kind: "invalid number", method: "GET", path: "/delay/1e1" },
  { kind: "invalid number", method: "GET", path: "/status/2e2" },
  { kind: "invalid number", method: "GET", path: "/stress?seconds=1&workers=0.5" },
  { kind: "invalid number", method: "GET", path: "/stress/memory?mb=-5" },
  { kind: "invalid number", method: "GET", path: "/stress/memory?mb=1.5" },
  { kind: "invalid number", method: "GET", path: "/stress/memory?mb=%00" },
  { kind: "invalid number", method: "GET", path: "/stress/memory?mb=1e999" },
  { kind: "bad cookie", method: "GET", path: "/me", headers: { cookie: "session_id=" + "A".repeat(4000) } },
  { kind: "bad cookie", method: "GET", path: "/me", headers: { cookie: "session_id=%zz%00; other=;;;=" } },
  { kind: "bad cookie", method: "POST", path: "/logout", headers: { cookie: "session_id=\"unterminated" } },
  { kind: "odd path", method: "GET", path: "/%" },
  { kind: "odd path", method: "GET", path: "/" + "a/".repeat(2000) },
  { kind: "odd path", method: "GET", path: "/visits/../../../../etc/passwd" },
  { kind: "odd header", method: "POST", path: "/kv/storm", headers: { "content-type": "application/json", "content-length-x": "-1" }, body: "{}" },
  { kind: "odd header", method: "GET", path: "/", headers: { accept: "*/*".repeat(1000) } },
];

/** Raw bytes on a fresh TCP connection: not even HTTP. */
export const RAW_GARBAGE: string[] = [
  "GARBAGE\r\n\r\n",
  "GET / HTTP/9.9\r\n\r\n",
  "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
  "POST /kv/x HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{",
  "GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  "\u0000\u0001\u0002\u0003\r\n\r\n",
];

export interface StormResult {
  requests: number;
  statuses: Record<string, number>;
  byKind: Record<string, Record<string, number>>;
  /** fetch rejected (connection closed by the server on a malformed request, for example). */
  networkErrors: number;
  fiveXx: number;
  rawSent: number;
  seconds: number;
}

async function sendRaw(host: string, port: number, data: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    let got = "";
    const s = connect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(got);
    }, timeoutMs);
    s.on("connect", () => s.write(data));
    s.on("data", (d) => {
      got += d.toString();
    });
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(timer);
      resolve(got);
    });
    // Servers may keep the connection open after answering; close our side soon after.
    setTimeout(() => s.end(), 200);
  });
}

/** Sends `total` requests cycling through the catalogue with `concurrency` workers. Bounded by maxMs. */
export async function runStorm(baseUrl: string, total: number, concurrency = 16, maxMs = 120_000): Promise<StormResult> {
  const url = new URL(baseUrl);
  const statuses: Record<string, number> = {};
  const byKind: Record<string, Record<string, number>> = {};
  let networkErrors = 0;
  let next = 0;
  let rawSent = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < total && performance.now() - t0 < maxMs) {
      const i = next++;
      if (i % 50 === 49) {
        await sendRaw(url.hostname, Number(url.port), RAW_GARBAGE[(i / 50) % RAW_GARBAGE.length | 0]!);
        rawSent++;
        continue;
      }
      const r = CATALOGUE[i % CATALOGUE.length]!;
      let key = "error";
      try {
        const res = await fetch(baseUrl + r.path, { method: r.method, headers: r.headers, body: r.body, signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        key = String(res.status);
      } catch {
        networkErrors++;
      }
      statuses[key] = (statuses[key] ?? 0) + 1;
      const k = (byKind[r.kind] ??= {});
      k[key] = (k[key] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const fiveXx = Object.entries(statuses).reduce((n, [s, c]) => n + (s.startsWith("5") ? c : 0), 0);
  return {
    requests: Object.values(statuses).reduce((a, b) => a + b, 0),
    statuses,
    byKind,
    networkErrors,
    fiveXx,
    rawSent,
    seconds: Math.round(performance.now() - t0) / 1000,
  };
}
