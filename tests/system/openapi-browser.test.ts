// /openapi in a real headless Chromium: Swagger UI renders from the embedded copy, with the page's
// CSP in force and no request leaving this origin. Skips without Chromium, except under CI=true.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../../src/app";
import { testDeps } from "../helpers/app";
import { launchChromium, requireChromium, type Browser } from "../helpers/browser";

const CHROMIUM = requireChromium();
const haveChromium = CHROMIUM !== undefined;

describe.skipIf(!haveChromium)("/openapi in headless Chromium", () => {
  let server: { port?: number; stop(force?: boolean): unknown };
  let browser: Browser | undefined;
  beforeAll(async () => {
    server = createApp(testDeps()).listen({ port: 0, hostname: "127.0.0.1" }).server!;
    browser = await launchChromium(CHROMIUM!, "openapi");
  }, 40_000);
  afterAll(async () => {
    await browser?.close();
    server?.stop(true);
  });

  test("Swagger UI renders the routes; no CSP violation, no foreign request", async () => {
    const origin = `http://127.0.0.1:${server.port}`;
    const page = await browser!.page();
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on("console", (msg) => {
      // Failed loads are reported with their URL below; the browser asks for /favicon.ico by itself.
      if (msg.text().startsWith("Failed to load resource")) return;
      if (msg.type() === "error" || msg.text().includes("Content Security Policy")) problems.push(msg.text());
    });
    page.on("response", (res) => {
      if (res.status() >= 400 && !res.url().endsWith("/favicon.ico")) problems.push(`${res.status()} ${res.url()}`);
    });
    page.on("pageerror", (err) => problems.push(err.message));
    page.on("request", (req) => {
      if (!req.url().startsWith(origin) && !req.url().startsWith("data:")) foreign.push(req.url());
    });
    await page.goto(`${origin}/openapi`, { timeout: 15_000 });
    await page.waitForSelector(".swagger-ui .info .title", { timeout: 15_000 });
    expect(await page.textContent(".swagger-ui .info .title")).toContain("bun-k8s");
    await page.waitForSelector('.opblock-summary-path[data-path="/kv/{key}"]', { timeout: 10_000 });
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
  }, 40_000);
});
