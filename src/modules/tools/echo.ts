// POST /echo: reads the raw body with a hard cap, never more than max bytes in memory.
import { HttpError } from "../../http/errors";
import { parseDecimalInt } from "../../http/numbers";

export function tooLarge(max: number, bytes?: number) {
  return new HttpError(413, "request body too large", { detail: bytes === undefined ? { max_bytes: max } : { max_bytes: max, bytes } });
}

/** The request body, or 413 as soon as it is known to exceed max (Content-Length or streamed bytes). */
export async function readCapped(request: Request, max: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = parseDecimalInt(request.headers.get("content-length"));
  if (declared !== null && declared > max) throw tooLarge(max, declared);
  if (!request.body) return new Uint8Array(new ArrayBuffer(0));
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.byteLength;
  }
  return body;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 text when the bytes are valid UTF-8, else base64; plus the parsed JSON when it is JSON. */
export function describeBody(bytes: Uint8Array, contentType: string | null) {
  let text: string | null = null;
  try {
    text = utf8.decode(bytes);
  } catch {
    text = null;
  }
  const result: { body: string; encoding: "utf-8" | "base64"; json?: unknown } =
    text === null
      ? { body: Buffer.from(bytes).toString("base64"), encoding: "base64" }
      : { body: text, encoding: "utf-8" };
  if (text !== null && contentType?.toLowerCase().includes("json")) {
    try {
      result.json = JSON.parse(text);
    } catch {
      // not JSON after all: the text is still echoed
    }
  }
  return result;
}
