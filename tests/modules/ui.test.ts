// Content negotiation on GET / and the embedded dashboard assets, through app.handle (no browser).
import { describe, expect, test } from "bun:test";
import { prefersHtml } from "../../src/modules/ui/negotiate";
import { BASE, testApp } from "../helpers/app";

const CHROME = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
const FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

describe("prefersHtml", () => {
  test.each([
    [CHROME, true],
    [FIREFOX, true],
    ["text/html", true],
    ["TEXT/HTML", false], // fast path is case-sensitive on the substring; browsers send lower case
    ["application/xhtml+xml, text/html;q=0.9", true],
    ["text/html, application/json", true],
    ["application/json, text/html", false],
    ["application/json;q=0.5, text/html;q=0.9", true],
    ["application/json, text/html;q=0.9", false],
    ["text/html;q=0", false],
    ["text/html;q=abc", false],
    ["*/*", false],
    ["", false],
    [null, false],
    [undefined, false],
    ["application/json", false],
    ["text/*", false],
    ["text/plain, */*", false],
  ] as const)("Accept %p -> %p", (accept, expected) => {
    expect(prefersHtml(accept)).toBe(expected);
  });
});

describe("GET / content negotiation", () => {
  const { app } = testApp();
  const get = (path: string, headers: Record<string, string> = {}) => app.handle(new Request(`${BASE}${path}`, { headers }));

  test("a browser gets the dashboard page", async () => {
    const res = await get("/", { accept: CHROME });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("vary")).toBe("Accept");
    const html = await res.text();
    expect(html).toContain("<title>bun-k8s dashboard</title>");
    expect(html).toMatch(/src="\/ui\/app\.js\?v=[^"]+"/);
    expect(html).not.toContain("__ASSET_VERSION__");
  });

  test.each([["*/*"], ["application/json"], [""]])("Accept %p keeps the JSON greeting", async (accept) => {
    const res = await get("/", accept ? { accept } : {});
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    // Same URL, two representations: a shared cache must not give a browser's page to a script.
    expect(res.headers.get("vary")).toBe("Accept");
    expect(await res.json()).toEqual({ message: "Hello from bun-k8s!", server: "test-host", version: expect.any(String) });
  });
});

describe("/ui assets", () => {
  const { app } = testApp();
  const get = (path: string, headers: Record<string, string> = {}) => app.handle(new Request(`${BASE}${path}`, { headers }));

  test.each([
    ["/ui", "text/html; charset=utf-8", "<!doctype html>"],
    ["/ui/app.js", "text/javascript; charset=utf-8", '"use strict";'],
    ["/ui/app.css", "text/css; charset=utf-8", ".pod-chip"],
    ["/ui/uplot.js", "text/javascript; charset=utf-8", "var uPlot="],
    ["/ui/uplot.css", "text/css; charset=utf-8", ".u-legend"],
  ])("%s is served with its type, CSP and an ETag", async (path, type, marker) => {
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(type);
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await res.text()).toContain(marker);
    const etag = res.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-z]+"$/);
    const again = await get(path, { "if-none-match": etag! });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });

  test("the page references only its own assets (works offline, no CDN)", async () => {
    const html = await (await get("/ui")).text();
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url).toMatch(/^(\/|#|data:)/);
    const js = await (await get("/ui/app.js")).text();
    expect(js).not.toContain("innerHTML");
    expect(js).not.toMatch(/https?:\/\//);
  });

  test("the embedded uPlot is the pinned copy, fetches nothing and writes no HTML", async () => {
    const pinned = (await import("../../package.json")).dependencies.uplot;
    const html = await (await get("/ui")).text();
    expect(html).toMatch(/<script src="\/ui\/uplot\.js\?v=[^"]+" defer><\/script>\s*<script src="\/ui\/app\.js/); // before app.js
    const lib = await (await get("/ui/uplot.js")).text();
    expect(lib).toStartWith(`/*! https://github.com/leeoniya/uPlot (v${pinned}) */`);
    const code = lib.slice(lib.indexOf("*/") + 2); // the licence line names the project's page
    expect(code).not.toMatch(/https?:\/\/|innerHTML|\beval\(|new Function/);
    expect(await (await get("/ui/uplot.css")).text()).not.toContain("url(");
  });
});
