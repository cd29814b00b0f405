// src/http/body.ts: the cap and the deadline of readBody, on Requests built in-process (the
// socket cases, a client sending slowly, are in tests/system/body-deadline.test.ts).
import { describe, expect, test } from "bun:test";
import { readBody } from "../../src/http/body";
import { HttpError } from "../../src/http/errors";

const limits = { maxBytes: 100, timeoutSeconds: 1 };
const post = (body: BodyInit, headers: Record<string, string> = {}) => new Request("http://localhost/echo", { method: "POST", body, headers });
const refusal = async (request: Request) => {
  try {
    await readBody(request, limits);
  } catch (err) {
    if (err instanceof HttpError) return { status: err.status, body: err.body };
    throw err;
  }
  return null;
};

describe("readBody", () => {
  test("a body within the cap, with or without Content-Length, comes back whole", async () => {
    expect(new TextDecoder().decode(await readBody(post("hello", { "content-length": "5" }), limits))).toBe("hello");
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode("hel"));
        c.enqueue(new TextEncoder().encode("lo"));
        c.close();
      },
    });
    expect(new TextDecoder().decode(await readBody(post(stream), limits))).toBe("hello");
  });

  test("a declared length over the cap is 413 before reading", async () => {
    expect(await refusal(post("x".repeat(101), { "content-length": "101" }))).toMatchObject({ status: 413, body: { detail: { max_bytes: 100, bytes: 101 } } });
  });

  test("a Content-Length that understates the body does not get more than the cap through", async () => {
    expect(await refusal(post("x".repeat(5000), { "content-length": "10" }))).toMatchObject({ status: 413, body: { detail: { max_bytes: 100, bytes: 5000 } } });
  });

  test("a body of unknown length is refused once it passes the cap", async () => {
    const stream = new ReadableStream({
      pull(c) {
        c.enqueue(new Uint8Array(60));
      },
    });
    expect(await refusal(post(stream))).toMatchObject({ status: 413, body: { detail: { max_bytes: 100 } } });
  });
});
