// /ws/echo helpers. Elysia hands the handler a parsed message: text that looks like JSON or a
// number arrives as a value, binary as a Buffer. Sizes are measured on what is echoed.

/** The frame to send back: binary stays binary, text stays text, parsed JSON is re-serialized. */
export function echoFrame(message: unknown): string | Buffer {
  if (Buffer.isBuffer(message)) return message;
  if (message instanceof ArrayBuffer) return Buffer.from(message);
  if (ArrayBuffer.isView(message)) return Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  if (typeof message === "string") return message;
  return JSON.stringify(message) ?? String(message);
}

export function frameBytes(frame: string | Buffer): number {
  return typeof frame === "string" ? Buffer.byteLength(frame, "utf8") : frame.byteLength;
}

/** RFC 6455 close code for a message that is too big to process. */
export const CLOSE_TOO_BIG = 1009;
