// /openapi through app.handle(): the docs page loads only embedded, pinned, same-origin files.
import { describe, expect, test } from "bun:test";
import { call, testApp } from "../helpers/app";

const { app } = testApp();
const pkg = await Bun.file(new URL("../../package.json", import.meta.url)).json();

describe("GET /openapi", () => {
  test("the page loads its scripts and styles from this origin only, with a strict CSP and nosniff", async () => {
    const page = await call(app, "GET", "/openapi");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.text).not.toMatch(/https?:\/\//);
    expect(page.text).not.toMatch(/<script>(?!<\/script>)|<script [^>]*>[^<]/); // no inline script

    const refs = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBe(3);
    for (const ref of refs) {
      expect(ref).toStartWith("/openapi/assets/");
      const res = await call(app, "GET", ref);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("content-type")).toMatch(/^text\/(javascript|css); charset=utf-8$/);
    }
  });

  test("the embedded Swagger UI is the exact pinned copy from swagger-ui-dist", async () => {
    expect(pkg.dependencies["swagger-ui-dist"]).toMatch(/^\d+\.\d+\.\d+$/);
    const embedded = (await call(app, "GET", "/openapi/assets/swagger-ui-bundle.js")).text;
    const pinned = await Bun.file(new URL("../../node_modules/swagger-ui-dist/swagger-ui-bundle.js", import.meta.url)).text();
    expect(embedded).toBe(pinned);
    const etag = (await call(app, "GET", "/openapi/assets/swagger-ui-bundle.js")).headers.get("etag")!;
    expect((await call(app, "GET", "/openapi/assets/swagger-ui-bundle.js", { headers: { "if-none-match": etag } })).status).toBe(304);
  });

  test("GET /openapi/json is the generated document", async () => {
    const doc = (await call(app, "GET", "/openapi/json")).json;
    expect(doc.info.title).toBe("bun-k8s");
    expect(Object.keys(doc.paths)).toContain("/kv/{key}");
    expect(Object.keys(doc.paths).some((p) => p.startsWith("/openapi"))).toBe(false);
  });
});
