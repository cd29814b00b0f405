// The README is the two-minute quick start plus the two tables people look things up in:
// keep its promises true and its tables generated.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ROUTES } from "../../src/app";
import { parseDoc } from "../../scripts/lib/markdown";
import { BLOCKS, extractBlock, renderBlock } from "../../scripts/lib/readme-tables";
import { ROOT } from "../../scripts/lib/repo";
import { checkLinks } from "./checks";

const readme = await Bun.file(join(ROOT, "README.md")).text();
const pkg = await Bun.file(join(ROOT, "package.json")).json();

/** `METHOD path` of every row of the README's route table. */
function documentedRoutes(text: string): string[] {
  const block = extractBlock(text, "route-table") ?? "";
  return [...block.matchAll(/^\| (\w+) \| `([^`]+)` \|/gm)].map((m) => `${m[1]} ${m[2]}`);
}

describe("README", () => {
  test.each(BLOCKS.map((b) => [b.name, b] as const))("the %s block is what the code generates", (_, block) => {
    expect(extractBlock(readme, block.name)).toBe(renderBlock(block));
  });

  test("the route table lists every route of ROUTES once, and nothing else", () => {
    const documented = documentedRoutes(readme);
    expect(documented.sort()).toEqual(Object.values(ROUTES).flat().sort());
  });

  test("the route check notices a missing row (GET /kv is not covered by GET /kv/:key)", () => {
    const withoutKv = readme.replace(/^\| GET \| `\/kv` \|.*\n/m, "");
    expect(withoutKv).not.toBe(readme);
    expect(documentedRoutes(withoutKv)).not.toContain("GET /kv");
    expect(documentedRoutes(withoutKv)).toContain("GET /kv/:key");
  });

  test("quick start: bun install && bun run start, then bun test", () => {
    expect(readme).toContain("bun install && bun run start");
    expect(readme).toMatch(/^bun test\b/m);
    expect(pkg.scripts.start).toBe("bun run src/main.ts");
  });

  test("every package.json script the README names exists", () => {
    const named = [...readme.matchAll(/bun run ([a-z][\w:./-]*)/g)].map((m) => m[1]!).filter((n) => !n.includes("/"));
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((n) => !(n in pkg.scripts))).toEqual([]);
  });

  test("relative links resolve (with their #anchors), and it stays short", () => {
    expect(checkLinks([parseDoc("README.md", readme)], ROOT)).toEqual([]);
    expect(readme.split("\n").length).toBeLessThan(300);
  });
});
