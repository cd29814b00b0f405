// The README is the two-minute quick start: keep its promises true.
import { describe, expect, test } from "bun:test";
import { extractBlock, readmeBlock } from "../scripts/config-table";
import { testApp } from "./helpers/app";

const readme = await Bun.file(new URL("../README.md", import.meta.url)).text();
const pkg = await Bun.file(new URL("../package.json", import.meta.url)).json();

describe("README", () => {
  test("the configuration table matches CONFIG_VARS", () => {
    expect(extractBlock(readme)).toBe(readmeBlock());
  });

  test("quick start: bun install && bun run start, then bun test", () => {
    expect(readme).toContain("bun install && bun run start");
    expect(readme).toMatch(/^bun test\b/m);
    expect(pkg.scripts.start).toBe("bun run src/main.ts");
  });

  test("every route of the app is documented", () => {
    const { app } = testApp();
    const routes = app.routes
      .filter((r) => !r.path.startsWith("/openapi") && !r.path.startsWith("/ui/"))
      .map((r) => r.path.replace(/:(\w+)/g, ":$1"));
    const missing = [...new Set(routes)].filter((path) => !readme.includes("`" + path) && !readme.includes(" " + path));
    expect(missing).toEqual([]);
  });

  test("every package.json script the README names exists", () => {
    const named = [...readme.matchAll(/bun run ([a-z][\w:./-]*)/g)].map((m) => m[1]!);
    const scripts = Object.keys(pkg.scripts);
    const missing = named.filter((n) => !scripts.includes(n) && !n.includes("/") && !n.endsWith(".ts"));
    expect(missing).toEqual([]);
  });

  test("relative links resolve", async () => {
    const links = [...readme.matchAll(/\]\((?!https?:|#)([^)#\s]+)/g)].map((m) => m[1]!);
    const missing: string[] = [];
    for (const link of links) {
      if (!(await Bun.file(new URL("../" + link, import.meta.url)).exists())) {
        const { existsSync } = await import("node:fs");
        if (!existsSync(new URL("../" + link, import.meta.url).pathname)) missing.push(link);
      }
    }
    expect(missing).toEqual([]);
  });

  test("in-page anchors point at real headings", () => {
    const slug = (h: string) => h.trim().toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-");
    const headings = new Set([...readme.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
    const anchors = [...readme.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
    expect(anchors.filter((a) => !headings.has(a))).toEqual([]);
  });
});
