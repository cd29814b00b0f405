// Refuses state-changing requests that a browser marks as coming from another site, in the manner
// of Go's net/http CrossOriginProtection: a page the learner happens to visit must not be able to
// crash, stress or reconfigure their pods with a form, an <img> or a no-cors fetch. Clients that
// send neither Sec-Fetch-Site nor Origin (curl, scripts, probes) are not browsers and pass.

/** Safe methods change nothing; these GETs do (they allocate CPU and memory), so they are guarded. */
const SIDE_EFFECT_GETS = new Set(["/stress", "/stress/memory"]);
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export interface CrossOriginRefusal {
  reason: string;
}

/** Trusted origins, from TRUSTED_ORIGINS: "https://a.example, http://localhost:5173". */
export function parseTrustedOrigins(spec: string): Set<string> {
  const origins = new Set<string>();
  for (const item of spec.split(",")) {
    const value = item.trim();
    if (!value) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new Error(`TRUSTED_ORIGINS: ${JSON.stringify(value)} is not an origin like https://example.com`);
    }
    if (url.origin === "null" || url.origin !== value.replace(/\/$/, "")) {
      throw new Error(`TRUSTED_ORIGINS: ${JSON.stringify(value)} is not an origin (scheme://host[:port], no path)`);
    }
    origins.add(url.origin);
  }
  return origins;
}

/** The path of a request URL without parsing it (this runs for every request, probes too). */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const query = url.indexOf("?", start);
  return query === -1 ? url.slice(start) : url.slice(start, query);
}

/** Why the request is refused, or null when it may go on. */
export function crossOriginRefusal(request: Request, trusted: ReadonlySet<string>): CrossOriginRefusal | null {
  if (SAFE_METHODS.has(request.method) && !SIDE_EFFECT_GETS.has(pathOf(request.url))) return null;
  const origin = request.headers.get("origin");
  if (origin !== null && trusted.has(origin)) return null;
  const site = request.headers.get("sec-fetch-site");
  if (site !== null) {
    if (site === "same-origin" || site === "none") return null;
    return { reason: `the browser marked it Sec-Fetch-Site: ${site.slice(0, 40)}` };
  }
  if (origin === null) return null;
  let originHost = "";
  try {
    originHost = new URL(origin).host;
  } catch {
    // "null" (a sandboxed frame, a redirect) or garbage: not this host
  }
  const host = request.headers.get("host") ?? new URL(request.url).host;
  if (originHost !== "" && originHost === host) return null;
  return { reason: `Origin ${JSON.stringify(origin.slice(0, 100))} is not this host (${host.slice(0, 100)})` };
}
