// The dashboard's charts (uPlot, embedded) in a real headless Chromium against the real server:
// they draw the heartbeat's figures, grow with every poll, and break no CSP rule.
// Skips when /usr/bin/chromium is absent, except under CI=true where that is a failure.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { launchChromium, requireChromium } from "../helpers/browser";
import type { Service } from "../../scripts/lib/service";
import { startFromSource } from "../helpers/source-service";

const CHROMIUM = requireChromium();
const ROOT = resolve(import.meta.dir, "../..");
const SCREENSHOT = join(ROOT, ".artifacts", "ui-charts.png");
const haveChromium = CHROMIUM !== undefined;
const TEST_TIMEOUT = 30_000;
const PER_POD = ["chart-rps", "chart-latency", "chart-cpu", "chart-rss"];

/** Headless Chromium with one page; script errors and console errors are collected. */
async function browser() {
  const chromium = await launchChromium(CHROMIUM!, "charts", { viewport: { width: 1280, height: 1000 } });
  const page = await chromium.page();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("console", (msg) => {
    // 401 from GET /me (not logged in) is logged by Chromium as a failed load: expected.
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) errors.push(msg.text());
  });
  // Every CSP violation fires this event, whether or not Chromium also logs it.
  await page.addInitScript(() => {
    const seen: string[] = ((window as any).__cspViolations = []);
    document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
  });
  return { page, errors, close: chromium.close };
}

/** The chart's data attributes (set by app.js on every draw). */
async function chartData(page: Page, id: string) {
  return page.locator(`#${id}`).evaluate((el: HTMLElement) => ({
    points: Number(el.dataset.points ?? 0),
    values: Number(el.dataset.values ?? 0),
    pods: Number(el.dataset.pods ?? 0),
    max: el.dataset.max ? Number(el.dataset.max) : null,
    latest: el.dataset.latest ?? null,
  }));
}

describe.skipIf(!haveChromium)("dashboard charts in headless Chromium", () => {
  let server: Service;
  let base = "";
  let replicaId = "";
  let session: Awaited<ReturnType<typeof browser>>;
  let page: Page;

  beforeAll(async () => {
    server = await startFromSource();
    base = server.origin;
    replicaId = ((await (await fetch(`${base}/replicas`)).json()) as { replicas: Array<{ id: string }> }).replicas[0]?.id ?? "";
    session = await browser();
    page = session.page;
  }, 60_000);

  afterAll(async () => {
    await session?.close();
    if (server) await server.stop();
  });

  test("the embedded uPlot loads and every chart draws this pod's heartbeat", async () => {
    const response = await page.goto(`${base}/ui`);
    expect(response?.status()).toBe(200);
    expect(await page.evaluate(() => typeof (window as any).uPlot)).toBe("function");
    // Rates need two heartbeats of the pod; the others draw from the first.
    await page.waitForFunction(
      (ids) => ids.every((id) => Number((document.getElementById(id) as HTMLElement).dataset.values ?? 0) > 0),
      PER_POD,
      { timeout: 15_000 },
    );
    for (const id of [...PER_POD, "chart-replicas"]) {
      expect(await page.locator(`#${id} canvas`).count()).toBe(1);
      expect((await chartData(page, id)).points).toBeGreaterThan(0);
    }
    for (const id of PER_POD) expect((await chartData(page, id)).pods).toBe(1);
    // Plausible figures for one idle process: a few MiB at least, a CPU share, a latency.
    expect((await chartData(page, "chart-rss")).max).toBeGreaterThan(10);
    expect((await chartData(page, "chart-cpu")).max).toBeGreaterThanOrEqual(0);
    expect((await chartData(page, "chart-latency")).max).toBeGreaterThan(0);
    expect((await chartData(page, "chart-replicas")).latest).toBe("1");
    // The legend names the pod (its replica id), as text.
    expect(replicaId).not.toBe("");
    await page.locator("#chart-rps .u-legend").filter({ hasText: replicaId }).waitFor();

    // The line is on the canvas: pixels in the pod's colour (the legend marker's border colour).
    const coloured = await page.locator("#chart-rss").evaluate((el) => {
      const marker = el.querySelector(".u-series:nth-child(2) .u-marker") as HTMLElement;
      const [r, g, b] = getComputedStyle(marker).borderTopColor.match(/\d+/g)!.map(Number) as [number, number, number];
      const canvas = el.querySelector("canvas") as HTMLCanvasElement;
      const pixels = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
      let count = 0;
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i + 3]! > 200 && Math.abs(pixels[i]! - r) < 40 && Math.abs(pixels[i + 1]! - g) < 40 && Math.abs(pixels[i + 2]! - b) < 40) count++;
      }
      return count;
    });
    expect(coloured).toBeGreaterThan(20);
  }, TEST_TIMEOUT);

  test("the charts gain a point every poll", async () => {
    const before = await chartData(page, "chart-cpu");
    const replicasBefore = await chartData(page, "chart-replicas");
    await page.waitForTimeout(5_000); // /replicas every 2 s
    const after = await chartData(page, "chart-cpu");
    expect(after.points).toBeGreaterThanOrEqual(before.points + 2);
    expect(after.values).toBeGreaterThan(before.values);
    expect((await chartData(page, "chart-replicas")).points).toBeGreaterThan(replicasBefore.points);
  }, TEST_TIMEOUT);

  test("Send 200 requests shows up in the pod's request rate", async () => {
    const idle = (await chartData(page, "chart-rps")).max ?? 0;
    await page.getByRole("button", { name: "Send 200 requests" }).click();
    await page.locator("#traffic-state").filter({ hasText: "200 of 200 answered" }).waitFor({ timeout: 20_000 });
    expect(await page.locator("#tally-body tr").count()).toBe(1);
    // The pod's own counter rose by 200 within about one heartbeat interval (1 s here).
    await page.waitForFunction(
      (floor) => Number((document.getElementById("chart-rps") as HTMLElement).dataset.max ?? 0) > floor,
      Math.max(20, idle * 2),
      { timeout: 10_000 },
    );
  }, TEST_TIMEOUT);

  test("no script errors and no CSP violations; screenshot saved", async () => {
    await page.locator("#charts").scrollIntoViewIfNeeded();
    mkdirSync(join(ROOT, ".artifacts"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(await page.evaluate(() => (window as any).__cspViolations)).toEqual([]);
    expect(session.errors).toEqual([]);
    // The listener does see a violation: a style attribute (unlike uPlot's element.style writes) is
    // inline style, which style-src 'self' refuses.
    await page.evaluate(() => document.body.setAttribute("style", "outline: 1px solid red"));
    await page.waitForFunction(() => (window as any).__cspViolations.length > 0);
    expect((await page.evaluate(() => (window as any).__cspViolations))[0]).toStartWith("style-src-attr");
  }, TEST_TIMEOUT);
});

// Two processes sharing a real Redis, as two pods share it in a cluster: one line each, and the
// replica count follows a pod that leaves (its heartbeat is deleted on SIGTERM).
describe.skipIf(!haveChromium)("dashboard charts with two pods on a real Redis", () => {
  const prefix = `charts-test:${process.pid}:${Date.now()}:`;
  let pods: Service[] = [];
  let session: Awaited<ReturnType<typeof browser>>;

  beforeAll(async () => {
    const redis = { STORE: "redis", REDIS_URL: process.env.TEST_REDIS_URL!, REDIS_KEY_PREFIX: prefix };
    pods = await Promise.all([startFromSource({ ...redis, POD_NAME: "pod-a" }), startFromSource({ ...redis, POD_NAME: "pod-b" })]);
    session = await browser();
  }, 60_000);

  afterAll(async () => {
    await session?.close();
    await Promise.all(pods.map((p) => p.stop()));
  });

  test("each pod gets its own line; the replica count drops when one stops", async () => {
    const { page } = session;
    expect(process.env.TEST_REDIS_URL).toBeDefined();
    await page.goto(`${pods[0]!.origin}/ui`);
    await page.waitForFunction(() => (document.getElementById("chart-replicas") as HTMLElement).dataset.latest === "2", null, { timeout: 15_000 });
    await page.waitForFunction(() => (document.getElementById("chart-cpu") as HTMLElement).dataset.pods === "2");
    for (const name of ["pod-a", "pod-b"]) await page.locator("#chart-cpu .u-legend").filter({ hasText: name }).waitFor();
    expect((await chartData(page, "chart-rss")).values).toBeGreaterThanOrEqual(2);

    expect(await pods[1]!.stop()).toBe(0);
    await page.waitForFunction(() => (document.getElementById("chart-replicas") as HTMLElement).dataset.latest === "1", null, { timeout: 10_000 });
    // The stopped pod's past stays on the charts until it leaves the five-minute window.
    expect((await chartData(page, "chart-cpu")).pods).toBe(2);
    expect(await page.evaluate(() => (window as any).__cspViolations)).toEqual([]);
    expect(session.errors).toEqual([]);
  }, TEST_TIMEOUT);
});
