import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import { readFileSync } from "node:fs";
import swaggerCssFile from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import swaggerBundleFile from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import type { AppDeps } from "../../deps";
import { VERSION } from "../../version";
import { asset, serveAsset, type Asset } from "../ui";
import init from "./init.js" with { type: "text" };
import pageSource from "./page.html" with { type: "text" };
import { PAGE_CSP } from "../../http/csp";

// The docs page runs Swagger UI from a copy embedded in the binary (swagger-ui-dist, pinned in
// package.json): nothing is fetched from a CDN, so it works offline and in an air-gapped
// cluster, and no third-party script runs on this origin. Swagger UI draws its icons as data:
// images, hence that one allowance in PAGE_CSP (tests/system/openapi-browser.test.ts fails on any CSP violation).

/**
 * An embedded file (`with { type: "file" }`: a path into the binary), read and hashed on its first
 * request. Imported as text, the 1.9 MB of Swagger UI were a string built at every start: 8% of the
 * binary's time to first 200, measured interleaved (docs/reference/benchmarks-and-drills.md).
 */
function fileAsset(path: string, type: string): Asset {
  let loaded: Asset | undefined;
  const load = () => (loaded ??= asset(readFileSync(path, "utf8"), type));
  return { type, get body() { return load().body; }, get etag() { return load().etag; } };
}

const ASSETS = {
  "/openapi/assets/swagger-ui.css": { item: fileAsset(swaggerCssFile as unknown as string, "text/css; charset=utf-8"), summary: "Swagger UI styles (embedded copy)" },
  "/openapi/assets/swagger-ui-bundle.js": {
    item: fileAsset(swaggerBundleFile as unknown as string, "text/javascript; charset=utf-8"),
    summary: "Swagger UI script (embedded copy, pinned in package.json)",
  },
  "/openapi/assets/init.js": { item: asset(init as unknown as string, "text/javascript; charset=utf-8"), summary: "Starts Swagger UI on /openapi/json" },
};
// The page, with `?v=` from the assets' own hashes, is built on its first request too.
let page: Asset | undefined;
const PAGE = (): Asset => {
  if (page) return page;
  const version = encodeURIComponent(`${VERSION}-${Bun.hash(Object.values(ASSETS).map((a) => a.item.etag).join()).toString(36)}`);
  return (page = asset((pageSource as unknown as string).replaceAll("__ASSET_VERSION__", version), "text/html; charset=utf-8"));
};

/** GET /openapi/json (the document Elysia generates) and GET /openapi, the docs page. */
export const openapiModule = (_deps: AppDeps) => {
  let docs = new Elysia({ name: "openapi-page" }).get("/openapi", ({ request }) => serveAsset(PAGE(), request, { csp: PAGE_CSP }), {
    detail: { summary: "API reference page (HTML)", hide: true },
  });
  for (const [path, { item, summary }] of Object.entries(ASSETS)) {
    docs = docs.get(path, ({ request }) => serveAsset(item, request, { csp: PAGE_CSP }), { detail: { summary, hide: true } });
  }
  return new Elysia({ name: "openapi" })
    .use(
      openapi({
        path: "/openapi",
        provider: null,
        documentation: {
          info: {
            title: "bun-k8s",
            version: VERSION,
            description: "A teaching and demo workload for Kubernetes: probes, chaos, shared state, metrics.",
          },
        },
      }),
    )
    .use(docs);
};
