// GET|POST /status/:code: answer with any final status code.
import { STATUS_CODES } from "node:http";
import { HttpError } from "../../http/errors";

/** Statuses whose responses never carry a body. */
const NO_BODY = new Set([204, 205, 304]);

export function reasonPhrase(code: number): string {
  return STATUS_CODES[code] ?? "Unknown";
}

/**
 * A response with the given status. 1xx codes are valid HTTP but informational: they cannot be
 * the final response (Bun refuses them, and 101 would hijack the connection), so they get a 400.
 */
export function statusResponse(code: number, server: string): Response {
  if (code < 200) {
    throw new HttpError(400, "informational (1xx) status codes cannot be sent as a final response", {
      detail: { code },
      hint: "use a code from 200 to 599",
    });
  }
  const headers = { "cache-control": "no-store" };
  if (NO_BODY.has(code)) return new Response(null, { status: code, headers });
  return Response.json({ status: code, reason: reasonPhrase(code), server }, { status: code, headers });
}
