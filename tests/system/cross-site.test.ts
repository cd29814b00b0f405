// A page on another site, in a real headless Chromium, tries what the audit's attacker page did:
// forms, a no-cors fetch and an <img>. The requests reach the service and are refused; nothing
// changes. Skips without Chromium, except under CI=true.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../../src/app";
import { testDeps } from "../helpers/app";
import { launchChromium, requireChromium, type Browser } from "../helpers/browser";

const CHROMIUM = requireChromium();
const haveChromium = CHROMIUM !== undefined;

describe.skipIf(!haveChromium)("an attacker page on another site, in headless Chromium", () => {
  let service: { port?: number; stop(force?: boolean): unknown };
  let attacker: ReturnType<typeof Bun.serve>;
  let browser: Browser | undefined;
  let exited: number | null = null;

  beforeAll(async () => {
    service = createApp(testDeps({ exit: (code) => void (exited = code) })).listen({ port: 0, hostname: "127.0.0.1" }).server!;
    // The service is opened as http://localhost:P, the attacker as http://127.0.0.1:Q: another site.
    const target = `http://localhost:${service.port}`;
    const page = `<!doctype html><body>
      <iframe name="sink-ready"></iframe><iframe name="sink-kv"></iframe><iframe name="sink-crash"></iframe>
      <form id="ready" method="POST" action="${target}/ready/disable" target="sink-ready"><input name="x" value="1"></form>
      <form id="kv" method="POST" action="${target}/kv/pwned" target="sink-kv"><input name="value" value="owned"></form>
      <form id="crash" method="POST" action="${target}/crash" target="sink-crash"></form>
      <img src="${target}/stress/memory?mb=5">
      <script>
        fetch("${target}/health/disable", { method: "POST", mode: "no-cors", body: "x" });
        fetch("${target}/faults/enable", { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: '{"error_rate":1}' });
        for (const id of ["ready", "kv", "crash"]) document.getElementById(id).submit();
      </script></body>`;
    attacker = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(page, { headers: { "content-type": "text/html" } }) });
    browser = await launchChromium(CHROMIUM!, "xsite");
  }, 40_000);
  afterAll(async () => {
    await browser?.close();
    service?.stop(true);
    attacker?.stop(true);
  });

  test("forms, a no-cors fetch and an <img> reach the service, get 403, and change nothing", async () => {
    const base = `http://127.0.0.1:${service.port}`;
    const refused = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return [...text.matchAll(/^http_requests_total\{[^}]*status="403"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    };
    const page = await browser!.page();
    await page.goto(`http://127.0.0.1:${attacker.port}/`);
    let count = 0;
    for (let i = 0; i < 50 && count < 6; i++) {
      await Bun.sleep(100);
      count = await refused();
    }
    // All six arrived (so the check below is not vacuous) and were refused.
    if (count !== 6) console.error((await (await fetch(`${base}/metrics`)).text()).split("\n").filter((l) => l.startsWith("http_requests_total")).join("\n"));
    expect(count).toBe(6);
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect((await fetch(`${base}/kv/pwned`)).status).toBe(404);
    expect(((await (await fetch(`${base}/faults`)).json()) as { enabled: boolean }).enabled).toBe(false);
    expect(((await (await fetch(`${base}/stress/memory/release`, { method: "POST" })).json()) as { released_mb: number }).released_mb).toBe(0);
    expect(exited).toBeNull();
  }, 30_000);
});
