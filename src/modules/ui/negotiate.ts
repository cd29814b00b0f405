/**
 * Whether an Accept header prefers an HTML page over JSON (browsers) rather than JSON (curl, fetch,
 * scripts: `*\/*` or no header). Cheap on the common path: without "text/html" in the header it
 * returns at once, so `GET /` stays as fast for scripts as before.
 *
 * text/html (or application/xhtml+xml) wins when its q is higher than application/json's, or equal
 * and listed first. Wildcards (`*\/*`, `text/*`) express no preference, so `Accept: text/html, *\/*`
 * is a browser and `Accept: *\/*` is a script.
 */
export function prefersHtml(accept: string | null | undefined): boolean {
  if (!accept || !accept.includes("text/html")) return false;
  let html = 0;
  let json = 0;
  let htmlAt = Infinity;
  let jsonAt = Infinity;
  const parts = accept.split(",");
  for (let i = 0; i < parts.length; i++) {
    const [rawType = "", ...params] = parts[i]!.split(";");
    const type = rawType.trim().toLowerCase();
    const isHtml = type === "text/html" || type === "application/xhtml+xml";
    const isJson = type === "application/json";
    if (!isHtml && !isJson) continue;
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split("=");
      if (name?.trim().toLowerCase() === "q") {
        const parsed = Number(value?.trim());
        q = Number.isFinite(parsed) ? Math.min(1, Math.max(0, parsed)) : 0;
      }
    }
    if (isHtml && q > html) {
      html = q;
      htmlAt = i;
    } else if (isJson && q > json) {
      json = q;
      jsonAt = i;
    }
  }
  if (html === 0) return false;
  return html > json || (html === json && htmlAt < jsonAt);
}
