// The app on a real loopback listener, in this process: what only sockets show (chunked timing,
// WebSocket frames, Bun's own path decoding). Everything else is tested through app.handle().
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createApp } from "../../src/app";
import { testApp, testDeps } from "../helpers/app";

// Real timers (a 2 s chunked stream, 1 s delays) on a machine that may be loaded.
setDefaultTimeout(20_000);

describe("streaming and WebSocket (real server)", () => {
  let server: { port?: number; stop(force?: boolean): unknown };
  let base = "";
  beforeAll(() => {
    const live = createApp(testDeps({ env: { MAX_DELAY_SECONDS: "3", MAX_WS_MESSAGE_BYTES: "64" } })).listen({ port: 0, hostname: "127.0.0.1" });
    server = live.server!;
    base = `127.0.0.1:${server.port}`;
  });
  afterAll(() => server.stop(true));

  test("/chunked/2 sends 3 chunks about a second apart, chunked", async () => {
    const t0 = performance.now();
    const res = await fetch(`http://${base}/chunked/2`);
    expect(res.status).toBe(200);
    expect(res.headers.get("transfer-encoding")).toBe("chunked");
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const reader = res.body!.getReader();
    const arrivals: number[] = [];
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      arrivals.push(performance.now() - t0);
      text += new TextDecoder().decode(value);
    }
    const lines = text.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.chunk)).toEqual([1, 2, 3]);
    expect(arrivals[0]!).toBeLessThan(700);
    expect(arrivals[arrivals.length - 1]!).toBeGreaterThan(1900);
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
  });

  test("/chunked out of range is 422", async () => {
    for (const bad of ["4", "-1", "1.5", "x"]) {
      expect((await fetch(`http://${base}/chunked/${bad}`)).status).toBe(422);
    }
  });

  test("/delay does not block: /health answers at once while delays are pending", async () => {
    const sent = performance.now();
    const delays = [1, 2, 3].map(() => fetch(`http://${base}/delay/1`));
    await Bun.sleep(50);
    const t0 = performance.now();
    const health = await fetch(`http://${base}/health`);
    const healthMs = performance.now() - t0;
    expect(health.status).toBe(200);
    expect(healthMs).toBeLessThan(300);
    const done = await Promise.all(delays);
    expect(done.map((r) => r.status)).toEqual([200, 200, 200]);
    const waited = performance.now() - sent;
    expect(waited).toBeGreaterThanOrEqual(990);
    expect(waited).toBeLessThan(2500);
  });

  const open = (path = "/ws/echo") =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`ws://${base}${path}`);
      ws.binaryType = "arraybuffer";
      ws.onopen = () => resolve(ws);
      ws.onerror = () => reject(new Error("websocket error"));
    });
  const next = (ws: WebSocket) =>
    new Promise<MessageEvent>((resolve) => ws.addEventListener("message", (e) => resolve(e as MessageEvent), { once: true }));

  test("/ws/echo echoes text, JSON and binary", async () => {
    const ws = await open();
    for (const msg of ["hello", '{"a":1}', "42"]) {
      const reply = next(ws);
      ws.send(msg);
      expect((await reply).data).toBe(msg);
    }
    const reply = next(ws);
    ws.send(new Uint8Array([1, 2, 3]));
    expect(new Uint8Array((await reply).data as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]));
    ws.close();
  });

  test("/ws/echo closes with 1009 after an error message when a message is too big", async () => {
    const ws = await open();
    const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = (e) => resolve(e)));
    const reply = next(ws);
    ws.send("x".repeat(65));
    const error = JSON.parse(String((await reply).data));
    expect(error).toEqual({ error: "message too large", max_bytes: 64, bytes: 65 });
    expect((await closed).code).toBe(1009);
  });

  test("plain GET /ws/echo explains the upgrade (426)", async () => {
    const res = await fetch(`http://${base}/ws/echo`);
    expect(res.status).toBe(426);
    expect(((await res.json()) as { error: string }).error).toContain("upgrade");
  });
});

describe("kv keys on a real server", () => {
  test("a /kv key that is not valid percent-encoding is 422 on the real server, not an alias of U+FFFD", async () => {
    const { app } = testApp();
    const live = app.listen({ port: 0, hostname: "127.0.0.1" });
    const base = `http://127.0.0.1:${live.server!.port}`;
    try {
      const send = (method: string, key: string, body?: unknown) =>
        fetch(`${base}/kv/${key}`, body === undefined ? { method } : { method, body: JSON.stringify(body), headers: { "content-type": "application/json" } });
      for (const key of ["%ZZ", "%", "%FF", "a%2", "%E0%A4%A"]) {
        for (const [method, body] of [["POST", { value: key }], ["GET"], ["DELETE"]] as const) {
          const res = await send(method, key, body);
          expect({ key, method, status: res.status }).toEqual({ key, method, status: 422 });
          expect((await res.json()).error).toBe("invalid request");
        }
      }
      // U+FFFD sent properly encoded is an ordinary key, and the only one stored.
      expect((await send("POST", "%EF%BF%BD", { value: "replacement" })).status).toBe(200);
      expect(await (await send("GET", "%EF%BF%BD")).json()).toMatchObject({ key: "\uFFFD", value: "replacement" });
      expect((await (await fetch(`${base}/kv`)).json()).keys).toEqual(["\uFFFD"]);
    } finally {
      await live.stop(true);
    }
  });
});

test("a real server: faults apply over HTTP, WebSocket upgrades get errors but no delay", async () => {
  const live = createApp(testDeps()).listen({ port: 0, hostname: "127.0.0.1" });
  const base = `127.0.0.1:${live.server!.port}`;
  try {
    await fetch(`http://${base}/faults/enable`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      // A delay far above a WebSocket round trip, so the "no delay" bound below holds on a loaded
      // machine (with 150 ms against a 140 ms bound, a GC pause or a busy core failed the test).
      body: JSON.stringify({ latency_min_ms: 1000 }),
    });
    let t0 = performance.now();
    const slow = await fetch(`http://${base}/version`);
    expect(slow.status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(995);
    t0 = performance.now();
    const ws = new WebSocket(`ws://${base}/ws/echo`);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("ws failed"));
    });
    const echoed = new Promise<string>((resolve) => (ws.onmessage = (e) => resolve(String(e.data))));
    ws.send("ping");
    expect(await echoed).toBe("ping");
    expect(performance.now() - t0).toBeLessThan(900);
    ws.close();
    await fetch(`http://${base}/faults/enable`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ error_rate: 1 }),
    });
    expect((await fetch(`http://${base}/version`)).status).toBe(503);
    expect((await fetch(`http://${base}/health`)).status).toBe(200);
    const refused = new WebSocket(`ws://${base}/ws/echo`);
    const outcome = await new Promise<string>((resolve) => {
      refused.onopen = () => resolve("open");
      refused.onerror = () => resolve("error");
    });
    expect(outcome).toBe("error");
  } finally {
    live.server!.stop(true);
  }
});
