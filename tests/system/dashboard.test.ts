// The dashboard in a real headless Chromium (Debian's package) against the real server process.
// Skips without Chromium, except under CI=true where that is a failure.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import type { Service } from "../../scripts/lib/service";
import { startFromSource } from "../helpers/source-service";
import { launchChromium, requireChromium, type Browser } from "../helpers/browser";

const CHROMIUM = requireChromium();
const ROOT = resolve(import.meta.dir, "../..");
const SCREENSHOT = join(ROOT, ".artifacts", "ui.png");
const haveChromium = CHROMIUM !== undefined;
const TEST_TIMEOUT = 20_000;

describe.skipIf(!haveChromium)("dashboard in headless Chromium", () => {
  let server: Service;
  let base = "";
  let serverName = "";
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    // Ready when GET / answers 200 (its JSON names the pod); explicit minimal env.
    server = await startFromSource();
    base = server.origin;
    serverName = ((await (await fetch(`${base}/`)).json()) as { server: string }).server;

    browser = await launchChromium(CHROMIUM!, "dashboard", { viewport: { width: 1280, height: 900 } });
    page = await browser.page();
    page.setDefaultTimeout(8_000);
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("console", (msg) => {
      // 401 from GET /me (not logged in) and 404s are logged by Chromium as failed loads: expected.
      if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) consoleErrors.push(msg.text());
    });
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await server.stop();
  });

  test("loads /ui and shows the pod that answered, its tally and its heartbeat", async () => {
    const response = await page.goto(`${base}/ui`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page.locator("#served-by").filter({ hasText: serverName }).waitFor();
    await page.locator("#tally-body tr").filter({ hasText: serverName }).waitFor();
    await page.locator("#replicas-body tr").filter({ hasText: serverName }).waitFor();
    await page.locator("#info-list").filter({ hasText: "uptime_seconds" }).waitFor();
    await page.locator("#config-list").filter({ hasText: "max_stress_seconds" }).waitFor();
    await page.locator("#ready-state").filter({ hasText: "200 ready" }).waitFor();
    await page.locator("#conn-state").filter({ hasText: "live" }).waitFor();
    // The pod colour is applied from the hostname hash.
    const colour = await page.locator("#served-by").evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(colour).toMatch(/^rgb/);
    expect(colour).not.toBe("rgb(229, 231, 235)"); // the grey fallback
    // Every form control has a label.
    const unlabelled = await page.evaluate(() =>
      Array.from(document.querySelectorAll("input, textarea, select")).filter((el) => !(el as HTMLInputElement).labels?.length).map((el) => el.id),
    );
    expect(unlabelled).toEqual([]);
  }, TEST_TIMEOUT);

  test("ready disable changes the state, ready enable restores it", async () => {
    await page.getByRole("button", { name: "Ready: disable" }).click();
    await page.locator("#ready-state").filter({ hasText: "503 not ready" }).waitFor();
    await page.locator("#announce").filter({ hasText: "Readiness disabled" }).waitFor();
    expect((await fetch(`${base}/ready`)).status).toBe(503);

    await page.getByRole("button", { name: "Ready: enable" }).click();
    await page.locator("#ready-state").filter({ hasText: "200 ready" }).waitFor();
    expect((await fetch(`${base}/ready`)).status).toBe(200);
  }, TEST_TIMEOUT);

  test("logs in as admin and shows the current user", async () => {
    await page.locator("#me-user").filter({ hasText: "not logged in" }).waitFor();
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill("admin");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.locator("#announce").filter({ hasText: "Logged in as admin" }).waitFor();
    await page.locator("#me-user").filter({ hasText: /^admin$/ }).waitFor();
    expect(await page.getByLabel("Password").inputValue()).toBe("");
  }, TEST_TIMEOUT);

  test("sets and reads a kv value", async () => {
    const value = `hello from the browser ${Date.now()}`;
    await page.getByLabel("Key", { exact: true }).fill("greeting");
    await page.getByLabel("Value", { exact: true }).fill(value);
    await page.getByRole("button", { name: "Save" }).click();
    await page.locator("#announce").filter({ hasText: 'Saved key "greeting"' }).waitFor();
    // Stored on the server, not just shown.
    const stored = (await (await fetch(`${base}/kv/greeting`)).json()) as { value: string };
    expect(stored.value).toBe(value);

    await page.getByLabel("Value", { exact: true }).fill("");
    await page.locator("#kv-result").evaluate((el) => (el.textContent = ""));
    await page.getByRole("button", { name: "Read", exact: true }).click();
    await page.locator("#kv-result").filter({ hasText: value }).waitFor();
    expect(await page.locator("#kv-result").textContent()).toBe(value);
    expect(await page.getByLabel("Value", { exact: true }).inputValue()).toBe(value);
    await page.getByRole("button", { name: "Read key greeting" }).waitFor();
  }, TEST_TIMEOUT);

  test("HTML in keys and values is shown as text, never parsed", async () => {
    const value = "<img src=x onerror=alert(1)>";
    const key = "<b>bold</b>";
    await page.getByLabel("Key", { exact: true }).fill(key);
    await page.getByLabel("Value", { exact: true }).fill(value);
    await page.getByRole("button", { name: "Save" }).click();
    await page.locator("#announce").filter({ hasText: "Saved key" }).waitFor();
    await page.getByLabel("Value", { exact: true }).fill("");
    await page.getByRole("button", { name: "Read", exact: true }).click();
    await page.locator("#kv-result").filter({ hasText: value }).waitFor();
    expect(await page.locator("#kv-result").textContent()).toBe(value);
    // The key list shows the key literally (polled every 3 s).
    const keyButton = page.getByRole("button", { name: `Read key ${key}` });
    await keyButton.waitFor();
    expect(await keyButton.textContent()).toBe(key);
    // No element was created from the data, and no script ran.
    expect(await page.locator("main img, main b").count()).toBe(0);
    expect(await page.locator("#log li").filter({ hasText: value }).count()).toBe(0); // values are not echoed in the log
    expect(dialogs).toEqual([]);
  }, TEST_TIMEOUT);

  test("chaos buttons confirm what happened; crash asks first", async () => {
    await page.getByLabel("CPU stress, seconds").fill("1");
    await page.getByRole("button", { name: "Burn CPU" }).click();
    await page.locator("#announce").filter({ hasText: "CPU stress done" }).waitFor();
    expect(await page.locator("#announce").textContent()).toContain(`CPU stress done on ${serverName}: 1s`);

    await page.getByLabel("Memory stress, MiB").fill("8");
    await page.getByRole("button", { name: "Allocate" }).click();
    await page.locator("#announce").filter({ hasText: "allocated 8 MiB" }).waitFor();
    await page.getByRole("button", { name: "Release" }).click();
    await page.locator("#announce").filter({ hasText: "Released 8 MiB" }).waitFor();

    // Visits counted elsewhere (another client, another pod) show up without a click.
    const before = (await (await fetch(`${base}/visits/count`)).json()).visits as number;
    for (let i = 0; i < 3; i++) await fetch(`${base}/visits`);
    await page.waitForFunction((want) => document.querySelector("#visits-value")?.textContent === want, String(before + 3), { timeout: 10_000 });
    expect((await (await fetch(`${base}/visits/count`)).json()).visits).toBe(before + 3);

    await page.getByRole("button", { name: "Count a visit" }).click();
    await page.locator("#announce").filter({ hasText: "Visit counted" }).waitFor();
    expect(Number(await page.locator("#visits-value").textContent())).toBeGreaterThan(0);

    // The dialog handler dismisses the confirm: nothing is sent and the server keeps running.
    await page.getByRole("button", { name: "Crash a pod…" }).click();
    await page.locator("#announce").filter({ hasText: "Crash cancelled" }).waitFor();
    expect(dialogs.at(-1)).toContain("Crash the pod that answers?");
    expect(server.proc.exitCode).toBeNull();
    expect((await fetch(`${base}/health`)).status).toBe(200);
  }, TEST_TIMEOUT);

  test("the cluster panel says the view is off here and how to turn it on, without opening a stream", async () => {
    const streams: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes("/cluster")) streams.push(request.url());
    });
    await page.reload();
    await page.locator("#cluster-state[data-view='off']").waitFor();
    expect(await page.locator("#cluster-reason").textContent()).toContain("CLUSTER_VIEW is off");
    await Bun.sleep(500);
    expect(streams).toEqual([]);
  }, TEST_TIMEOUT);

  test("no script errors or CSP violations; screenshot saved", async () => {
    await page.locator("#kv-keys").filter({ hasText: "greeting" }).waitFor();
    mkdirSync(join(ROOT, ".artifacts"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  }, TEST_TIMEOUT);

  test("a browser opening / gets the dashboard", async () => {
    const response = await page.goto(`${base}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-type"]).toContain("text/html");
    await page.locator("#served-by").filter({ hasText: serverName }).waitFor();
  }, TEST_TIMEOUT);
});
