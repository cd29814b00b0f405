// Every ```mermaid block in docs/ and README.md parses and renders to an SVG with nodes, in a
// real headless Chromium with the mermaid package's own bundle (the devDependency, so the
// version is pinned in bun.lock). The page is blank and every request it makes is refused and
// recorded: the check works offline, and a diagram that needs the network fails. Skips without
// Chromium, except under CI=true.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { loadDocs, parseDoc, ROOT, type Doc } from "../../scripts/lib/markdown";
import { launchChromium, requireChromium, type Browser } from "../helpers/browser";

const docs: Doc[] = [parseDoc("README.md", readFileSync(join(ROOT, "README.md"), "utf8")), ...loadDocs()];
const diagrams = docs.flatMap((d) => d.fences.filter((f) => f.lang === "mermaid").map((f) => ({ where: `${d.path}:${f.line}`, text: f.lines.join("\n") })));
const BUNDLE = join(ROOT, "node_modules/mermaid/dist/mermaid.min.js");

// Where a picture says it faster than prose (issue 15); a page that loses its diagram fails here.
const EXPECTED = [
  "docs/README.md", "docs/01-desired-state.md", "docs/03-deployments.md", "docs/11-service-types.md",
  "docs/08-rolling-updates.md", "docs/09-autoscaling.md", "docs/14-shared-state.md", "docs/18-graceful-shutdown.md",
  "docs/24-ingress.md",
];

test("the pages that need a diagram have one", () => {
  const have = new Set(diagrams.map((d) => d.where.split(":")[0]));
  expect(EXPECTED.filter((p) => !have.has(p))).toEqual([]);
});

const CHROMIUM = requireChromium();

interface Rendered {
  ok: boolean;
  error?: string;
  tag?: string;
  width?: number;
  height?: number;
  nodes?: number;
  text?: string;
}

/** The labels a reader should find: quoted node labels and sequence participants. */
function labels(source: string): string[] {
  const quoted = [...source.matchAll(/\[\(?"([^"]+)"\)?\]|\{"([^"]+)"\}/g)].map((m) => (m[1] ?? m[2])!);
  const participants = [...source.matchAll(/^\s*participant\s+\S+\s+as\s+(.+)$/gm)].map((m) => m[1]!.trim());
  return [...quoted, ...participants].map((l) => l.replace(/<br\s*\/?>/g, " "));
}

/** Parses and renders one diagram in the page; never throws, so the reason reaches the assertion. */
function render(page: Page, id: string, text: string): Promise<Rendered> {
  return page.evaluate(async ({ id, text }) => {
    const m = (globalThis as unknown as { mermaid: { parse(t: string): Promise<unknown>; render(id: string, t: string): Promise<{ svg: string }> } }).mermaid;
    try {
      await m.parse(text);
      const { svg } = await m.render(id, text);
      // As HTML, the way a Markdown viewer inlines it (node labels are HTML in a foreignObject).
      const holder = document.createElement("div");
      holder.innerHTML = svg;
      const root = holder.firstElementChild;
      if (!root) return { ok: false, error: "render returned no element" };
      const box = (root.getAttribute("viewBox") ?? "0 0 0 0").split(/[\s,]+/).map(Number);
      return {
        ok: true,
        tag: root.tagName.toLowerCase(),
        width: box[2] ?? 0,
        height: box[3] ?? 0,
        // Boxes, actors, edges and their labels: what a reader looks at.
        nodes: root.querySelectorAll("g.node, rect.actor").length,
        text: (root.textContent ?? "").replace(/\s+/g, " ").trim(),
      };
    } catch (err) {
      return { ok: false, error: String((err as Error)?.message ?? err) };
    }
  }, { id, text });
}

test("labels() finds node labels and participants", () => {
  expect(labels('flowchart LR\n  a["one<br/>two"] --> b{"three"}\n  c[("four")]')).toEqual(["one two", "three", "four"]);
  expect(labels("sequenceDiagram\n  participant K as kubelet\n  K->>K: x")).toEqual(["kubelet"]);
});

describe.skipIf(CHROMIUM === undefined)("mermaid diagrams in headless Chromium", () => {
  let browser: Browser | undefined;
  let page: Page;
  const requests: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium(CHROMIUM!, "mermaid");
    // Offline by construction: nothing leaves the page, and anything it tries is recorded.
    await browser.context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("data:") || url === "about:blank") return route.continue();
      requests.push(url);
      return route.abort();
    });
    page = await browser.page();
    page.on("pageerror", (err) => errors.push(err.message));
    await page.setContent("<!doctype html><html><head><meta charset=utf-8></head><body></body></html>");
    await page.addScriptTag({ path: BUNDLE });
    await page.evaluate(() => {
      const m = (globalThis as unknown as { mermaid: { initialize(c: object): void } }).mermaid;
      m.initialize({ startOnLoad: false, securityLevel: "strict" });
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  test("the docs have mermaid blocks to check", () => {
    expect(diagrams.length).toBeGreaterThanOrEqual(EXPECTED.length);
  });

  test("a broken diagram is refused (so the check can fail)", async () => {
    const r = await render(page, "broken", "flowchart LR\n  A --> B[unclosed");
    expect(r.ok).toBe(false);
    expect(r.error).toBeTruthy();
  }, 30_000);

  diagrams.forEach((d, i) => {
    test(`${d.where} parses and renders to an SVG with nodes`, async () => {
      const r = await render(page, `d${i}`, d.text);
      expect(r.error ?? "").toBe("");
      expect(r.tag).toBe("svg");
      expect(r.width!).toBeGreaterThan(0);
      expect(r.height!).toBeGreaterThan(0);
      expect(r.nodes!).toBeGreaterThanOrEqual(2);
      expect(r.text!).not.toContain("Syntax error");
      // Every box and participant the source names is drawn (whitespace aside: <br/> adds none).
      const drawn = r.text!.replace(/\s+/g, "");
      expect(labels(d.text).filter((l) => !drawn.includes(l.replace(/\s+/g, "")))).toEqual([]);
    }, 30_000);
  });

  test("no diagram asked the network for anything, and the page raised no error", () => {
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
  });
});
