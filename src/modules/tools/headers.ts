// Request headers as JSON, for /headers and /echo. Credentials are masked: an HttpOnly
// cookie echoed into a body would be readable by any script on this origin.
import { MASK } from "./env";

/** x-api-key, x-auth-request-access-token, x-amz-security-token, x-csrf-token, x-session-id... */
const SECRET_HEADER = /key|token|secret|pass|auth|cred|session|signature/i;

export function headersJson(headers: Headers): { headers: Record<string, string>; masked: string[] } {
  const out: Record<string, string> = {};
  const masked: string[] = [];
  headers.forEach((value, name) => {
    let shown = value;
    if (name === "cookie") {
      shown = value
        .split(";")
        .map((part: string) => {
          const eq = part.indexOf("=");
          return eq === -1 ? part.trim() : `${part.slice(0, eq).trim()}=${MASK}`;
        })
        .join("; ");
    } else if (name === "authorization" || name === "proxy-authorization") {
      const space = value.indexOf(" ");
      shown = space === -1 ? MASK : `${value.slice(0, space)} ${MASK}`;
    } else if (SECRET_HEADER.test(name)) {
      shown = MASK;
    }
    if (shown !== value) masked.push(name);
    out[name] = shown;
  });
  return { headers: out, masked };
}
