import { Elysia } from "elysia";
import type { AppDeps } from "../../deps";
import { VERSION } from "../../version";
// Embedded as text so `bun build --compile` carries them inside the binary (no files at runtime).
import stylesheet from "./app.css" with { type: "text" };
import script from "./app.js" with { type: "text" };
import pageSource from "./page.html" with { type: "text" };
// uPlot (pinned in package.json) draws the charts: embedded like the page's own files, no CDN.
import uplotScript from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotStyles from "uplot/dist/uPlot.min.css" with { type: "text" };
import { PAGE_CSP } from "../../http/csp";

export { prefersHtml } from "./negotiate";

const tags = ["ui"];

// Data is rendered as text; the CSP (src/http/csp.ts) is the backstop.
const COMMON_HEADERS = {
  "content-security-policy": PAGE_CSP,
  // Revalidate every time: after a rolling update the new version's page must show up at once.
  "cache-control": "no-cache",
};

export interface Asset {
  body: string;
  type: string;
  etag: string;
}

export function asset(body: string, type: string): Asset {
  return { body, type, etag: `"${Bun.hash(body).toString(36)}"` };
}

// `?v=` busts caches across versions; the hash of the assets covers local edits during development.
const assetVersion = encodeURIComponent(`${VERSION}-${Bun.hash(script + stylesheet + uplotScript + uplotStyles).toString(36)}`);
const PAGE = asset((pageSource as unknown as string).replaceAll("__ASSET_VERSION__", assetVersion), "text/html; charset=utf-8");
const SCRIPT = asset(script, "text/javascript; charset=utf-8");
const STYLES = asset(stylesheet, "text/css; charset=utf-8");
const UPLOT_SCRIPT = asset(uplotScript, "text/javascript; charset=utf-8");
const UPLOT_STYLES = asset(uplotStyles, "text/css; charset=utf-8");

/** An embedded asset with the dashboard's headers (another page may bring its own CSP). */
export function serveAsset(item: Asset, request: Request, options: { csp?: string; extraHeaders?: Record<string, string> } = {}): Response {
  const headers = {
    ...COMMON_HEADERS,
    ...(options.csp ? { "content-security-policy": options.csp } : {}),
    ...options.extraHeaders,
    etag: item.etag,
    "content-type": item.type,
  };
  if (request.headers.get("if-none-match") === item.etag) return new Response(null, { status: 304, headers });
  return new Response(item.body, { headers });
}

const serve = (item: Asset, request: Request, extraHeaders?: Record<string, string>) => serveAsset(item, request, { extraHeaders });

/** The dashboard page, for `GET /` when the client prefers HTML (varies on Accept). */
export function uiPageResponse(request: Request): Response {
  return serve(PAGE, request, { vary: "Accept" });
}

/** The live dashboard at /ui: one static page that polls the JSON API. No data is baked in. */
export const uiModule = (_deps: AppDeps) =>
  new Elysia({ name: "ui" })
    .get("/ui", ({ request }) => serve(PAGE, request), {
      detail: { tags, summary: "Live dashboard (HTML). Browsers opening / get it too" },
    })
    .get("/ui/app.js", ({ request }) => serve(SCRIPT, request), { detail: { tags, summary: "Dashboard script", hide: true } })
    .get("/ui/app.css", ({ request }) => serve(STYLES, request), { detail: { tags, summary: "Dashboard styles", hide: true } })
    .get("/ui/uplot.js", ({ request }) => serve(UPLOT_SCRIPT, request), { detail: { tags, summary: "uPlot, the chart library (embedded copy)", hide: true } })
    .get("/ui/uplot.css", ({ request }) => serve(UPLOT_STYLES, request), { detail: { tags, summary: "uPlot styles (embedded copy)", hide: true } });
