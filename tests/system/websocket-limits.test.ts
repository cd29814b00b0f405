// /ws/echo on a real server: a client that never reads is closed, and connections are capped.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { createApp } from "../../src/app";
import { testDeps } from "../helpers/app";

setDefaultTimeout(30_000);

let server: { port?: number; stop(force?: boolean): unknown };
let port = 0;
beforeAll(() => {
  const env = { MAX_WS_MESSAGE_BYTES: "65536", WS_BACKPRESSURE_BYTES: "262144", WS_MAX_CONNECTIONS: "3" };
  const live = createApp(testDeps({ env })).listen({ port: 0, hostname: "127.0.0.1" });
  server = live.server!;
  port = server.port!;
});
afterAll(() => server.stop(true));

const openSockets = async () => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^bun_k8s_websockets_open (\d+)/m.exec(text)?.[1] ?? NaN);
};

/** Upgrades by hand and resolves with the raw socket and the status line of the answer. */
function rawUpgrade(): Promise<{ socket: Socket; status: string; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(
        "GET /ws/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    socket.once("data", (chunk) => {
      const head = chunk.toString("latin1");
      resolve({ socket, status: head.split("\r\n")[0]!, head });
    });
    socket.once("error", reject);
  });
}

/** A masked binary frame (the mask key is zero, so the payload goes as is). */
function clientFrame(payload: Buffer): Buffer {
  const header = payload.length < 126 ? Buffer.from([0x82, 0x80 | payload.length]) : Buffer.from([0x82, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, Buffer.alloc(4), payload]);
}

describe("/ws/echo limits", () => {
  test("a client that sends but never reads is closed once WS_BACKPRESSURE_BYTES are buffered for it", async () => {
    const { socket, status } = await rawUpgrade();
    expect(status).toBe("HTTP/1.1 101 Switching Protocols");
    socket.pause(); // never read again: the echoes pile up in the kernel, then in the server
    const frame = clientFrame(Buffer.alloc(60 * 1024, 1));
    let closed = false;
    socket.on("close", () => (closed = true));
    socket.on("error", () => (closed = true));
    // 48 MB of echoes: far past the loopback socket buffers and the 256 KiB limit.
    for (let i = 0; i < 800 && !closed; i++) {
      if (!socket.write(frame)) await Promise.race([new Promise((r) => socket.once("drain", r)), Bun.sleep(200)]);
      if (i % 50 === 0 && (await openSockets()) === 0) break;
    }
    let open = await openSockets();
    for (let i = 0; i < 50 && open !== 0; i++) {
      await Bun.sleep(100);
      open = await openSockets();
    }
    socket.destroy();
    expect(open).toBe(0);
  });

  test("past WS_MAX_CONNECTIONS an upgrade is refused with 503 JSON; a freed slot is usable again", async () => {
    const clients = await Promise.all(
      Array.from({ length: 3 }, () => new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/echo`);
        ws.onopen = () => resolve(ws);
        ws.onerror = () => reject(new Error("websocket error"));
      })),
    );
    expect(await openSockets()).toBe(3);
    const refused = await rawUpgrade();
    expect(refused.status).toBe("HTTP/1.1 503 Service Unavailable");
    expect(refused.head).toContain('"error":"too many websocket connections"');
    refused.socket.destroy();

    const closed = new Promise((r) => (clients[0]!.onclose = r));
    clients[0]!.close();
    await closed;
    for (let i = 0; i < 20 && (await openSockets()) !== 2; i++) await Bun.sleep(20);
    const again = await rawUpgrade();
    expect(again.status).toBe("HTTP/1.1 101 Switching Protocols");
    again.socket.destroy();
    for (const ws of clients.slice(1)) ws.close();
  });
});
