// Every request body is read here, with a size cap and an overall deadline: Bun's idleTimeout
// resets on each byte, so a client sending one byte every few seconds held a connection forever.
import { HttpError } from "./errors";
import { parseDecimalInt } from "./numbers";

export function bodyTooLarge(max: number, bytes?: number) {
  return new HttpError(413, "request body too large", { detail: bytes === undefined ? { max_bytes: max } : { max_bytes: max, bytes } });
}

/** The connection is closed too: the rest of a body that arrives this slowly is not worth reading. */
export function bodyTooSlow(seconds: number) {
  return new HttpError(408, "request body too slow", {
    detail: `the whole body must arrive within ${seconds} s (BODY_TIMEOUT_SECONDS)`,
    headers: { connection: "close" },
  });
}

export interface BodyLimits {
  maxBytes: number;
  timeoutSeconds: number;
}

/** The raw body, or 413 as soon as it is known to exceed maxBytes, or 408 past the deadline. */
export async function readBody(request: Request, limits: BodyLimits): Promise<Uint8Array<ArrayBuffer>> {
  const declared = parseDecimalInt(request.headers.get("content-length"));
  if (declared !== null && declared > limits.maxBytes) throw bodyTooLarge(limits.maxBytes, declared);
  if (!request.body) return new Uint8Array(new ArrayBuffer(0));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), limits.timeoutSeconds * 1000);
  });
  try {
    // With a Content-Length within the cap, HTTP framing bounds the body: Bun reads it whole in
    // native code (POST /echo 16k -> 26k req/s against the chunk loop below, docs/reference/benchmarks-and-drills.md).
    return declared !== null ? await wholeBody(request, deadline, limits) : await cappedBody(request, deadline, limits);
  } finally {
    clearTimeout(timer);
  }
}

async function wholeBody(request: Request, deadline: Promise<"late">, limits: BodyLimits): Promise<Uint8Array<ArrayBuffer>> {
  const whole = request.bytes();
  const next = await Promise.race([whole, deadline]);
  if (next === "late") throw bodyTooSlow(limits.timeoutSeconds); // the 408 closes the connection, which ends the read
  // The server reads no more than Content-Length says; a Request built in-process might.
  if (next.byteLength > limits.maxBytes) throw bodyTooLarge(limits.maxBytes, next.byteLength);
  return next as Uint8Array<ArrayBuffer>;
}

/** A body of unknown length, read chunk by chunk so it is refused as soon as it passes the cap. */
async function cappedBody(request: Request, deadline: Promise<"late">, limits: BodyLimits): Promise<Uint8Array<ArrayBuffer>> {
  const reader = request.body!.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const next = await Promise.race([reader.read(), deadline]);
    if (next === "late") {
      await reader.cancel().catch(() => {});
      throw bodyTooSlow(limits.timeoutSeconds);
    }
    if (next.done) break;
    total += next.value.byteLength;
    if (total > limits.maxBytes) {
      await reader.cancel().catch(() => {});
      throw bodyTooLarge(limits.maxBytes);
    }
    chunks.push(next.value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.byteLength;
  }
  return body;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/**
 * What Elysia's own parsers would make of the body, by media type (without parameters): JSON,
 * text, a form (urlencoded or multipart) as an object, anything else as an ArrayBuffer.
 */
export async function parseBody(bytes: Uint8Array<ArrayBuffer>, mediaType: string, fullContentType: string | null): Promise<unknown> {
  switch (mediaType) {
    case "application/json":
      return JSON.parse(text(bytes));
    case "application/x-www-form-urlencoded":
      return Object.fromEntries(new URLSearchParams(text(bytes)));
    case "multipart/form-data":
      return Object.fromEntries(
        (await new Response(bytes, { headers: { "content-type": fullContentType ?? mediaType } }).formData()) as unknown as Iterable<[string, unknown]>,
      );
  }
  if (mediaType.startsWith("text/")) return text(bytes);
  return bytes.buffer;
}

/**
 * The `parse` hook of every route with a body schema, in place of Elysia's parsers (they await
 * the whole body with no deadline). It is per route, not global: a global parse hook would make
 * Elysia compile every handler, the hot GET routes too, as async.
 */
export function deadlineParser(limits: BodyLimits) {
  const parse = async ({ request }: { request: Request }, mediaType: string) =>
    parseBody(await readBody(request, limits), mediaType, request.headers.get("content-type"));
  deadlineParsers.add(parse);
  return parse;
}

const deadlineParsers = new WeakSet<object>();
/** For the test that every route with a body schema uses one. */
export const isDeadlineParser = (fn: unknown) => typeof fn === "function" && deadlineParsers.has(fn);
