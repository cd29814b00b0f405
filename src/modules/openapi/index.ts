import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import swaggerCss from "swagger-ui-dist/swagger-ui.css" with { type: "text" };
import swaggerBundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "text" };
import type { AppDeps } from "../../deps";
import { VERSION } from "../../version";
import { asset, serveAsset } from "../ui";
import init from "./init.js" with { type: "text" };
import pageSource from "./page.html" with { type: "text" };
import { PAGE_CSP } from "../../http/csp";

// The docs page runs Swagger UI from a copy embedded in the binary (swagger-ui-dist, pinned in
// package.json): nothing is fetched from a CDN, so it works offline and in an air-gapped
// cluster, and no third-party script runs on this origin. Swagger UI draws its icons as data:
// images, hence that one allowance in PAGE_CSP (tests/system/openapi-browser.test.ts fails on any CSP violation).

const ASSETS = {
  "/openapi/assets/swagger-ui.css": { item: asset(swaggerCss, "text/css; charset=utf-8"), summary: "Swagger UI styles (embedded copy)" },
  "/openapi/assets/swagger-ui-bundle.js": {
    item: asset(swaggerBundle as unknown as string, "text/javascript; charset=utf-8"),
    summary: "Swagger UI script (embedded copy, pinned in package.json)",
  },
  "/openapi/assets/init.js": { item: asset(init as unknown as string, "text/javascript; charset=utf-8"), summary: "Starts Swagger UI on /openapi/json" },
};
// From the assets' own hashes: hashing `bundle + css + init` flattened a 1.9 MB string at every
// start, which cost 2.7 MiB of RSS and a large part of this module's evaluation
// (docs/reference/benchmarks-and-drills.md, start-up).
const assetVersion = encodeURIComponent(`${VERSION}-${Bun.hash(Object.values(ASSETS).map((a) => a.item.etag).join()).toString(36)}`);
const PAGE = asset((pageSource as unknown as string).replaceAll("__ASSET_VERSION__", assetVersion), "text/html; charset=utf-8");

/** GET /openapi/json (the document Elysia generates) and GET /openapi, the docs page. */
export const openapiModule = (_deps: AppDeps) => {
  let docs = new Elysia({ name: "openapi-page" }).get("/openapi", ({ request }) => serveAsset(PAGE, request, { csp: PAGE_CSP }), {
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
