// A client that sends its body one byte at a time is cut off at BODY_TIMEOUT_SECONDS.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect } from "node:net";
import { createApp } from "../../src/app";
import { testDeps } from "../helpers/app";

setDefaultTimeout(30_000);

let server: { port?: number; stop(force?: boolean): unknown };
let port = 0;
beforeAll(() => {
  const live = createApp(testDeps({ env: { BODY_TIMEOUT_SECONDS: "1" } })).listen({ port: 0, hostname: "127.0.0.1" });
  server = live.server!;
  port = server.port!;
});
afterAll(() => server.stop(true));

/**
 * Sends the headers, then one body byte every 300 ms, with a Content-Length (Bun reads the body
 * whole) or chunked (read chunk by chunk); resolves with what came back and when.
 */
function slowBody(path: string, framing: "content-length" | "chunked"): Promise<{ response: string; ms: number; closed: boolean }> {
  return new Promise((resolve) => {
    const started = performance.now();
    let response = "";
    let closed = false;
    const socket = connect(port, "127.0.0.1", () => {
      const length = framing === "chunked" ? "Transfer-Encoding: chunked" : "Content-Length: 100";
      socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${length}\r\n\r\n`);
    });
    const drip = setInterval(() => socket.writable && socket.write(framing === "chunked" ? "1\r\n \r\n" : " "), 300);
    const finish = () => {
      clearInterval(drip);
      socket.destroy();
      resolve({ response, ms: performance.now() - started, closed });
    };
    socket.on("data", (chunk) => (response += chunk.toString()));
    socket.on("close", () => {
      closed = true;
      finish();
    });
    socket.on("error", () => {});
    setTimeout(finish, 4000);
  });
}

describe("request body deadline", () => {
  const cases = ["/echo", "/kv/slow", "/login", "/faults/enable"].flatMap((path) => (["content-length", "chunked"] as const).map((framing) => [path, framing] as const));
  test.each(cases)("POST %s (%s): 408 JSON and the connection closed after about a second", async (path, framing) => {
    const { response, ms, closed } = await slowBody(path, framing);
    expect(response).toStartWith("HTTP/1.1 408");
    expect(response).toContain('"error":"request body too slow"');
    expect(closed).toBe(true);
    expect(ms).toBeGreaterThan(900);
    expect(ms).toBeLessThan(2500);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  });

  test("a body that arrives in time is read as before", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/kv/fast`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"value":"ok"}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ key: "fast", value: "ok" });
  });
});
