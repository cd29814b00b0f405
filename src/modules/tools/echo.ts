// POST /echo: describes the raw body (read by src/http/body.ts with a cap and a deadline).

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
