#!/usr/bin/env bun
// Manifest excerpts in docs/ are quoted from the real files (see tests/docs/excerpts.ts for the
// marker syntax). This script checks them, or with --write refreshes every drifted block from
// the files it quotes:
//
//   bun run scripts/docs-excerpts.ts           list drifted or broken excerpts (exit 1 if any)
//   bun run scripts/docs-excerpts.ts --write   rewrite the drifted blocks in place
//
// Broken markers (missing file, anchor not found or not unique) are never rewritten: fix them by hand.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkExcerpts, excerptsOf, refreshDoc } from "../tests/docs/excerpts";
import { loadDocs, ROOT } from "../tests/docs/markdown";

export function run(argv: string[], root = ROOT, out: (line: string) => void = console.log): number {
  const write = argv.includes("--write");
  const unknown = argv.filter((a) => a !== "--write");
  if (unknown.length) {
    out(`docs-excerpts: unknown argument ${unknown[0]} (usage: bun run scripts/docs-excerpts.ts [--write])`);
    return 2;
  }
  let total = 0;
  let drifted = 0;
  let broken = 0;
  for (const doc of loadDocs(root)) {
    const { excerpts, errors } = excerptsOf(doc);
    total += excerpts.length;
    for (const e of errors) out(`broken: ${e}`);
    broken += errors.length;
    const drifts = checkExcerpts(excerpts, root);
    for (const d of drifts) {
      const where = `${doc.path}:${d.excerpt.fence.line} <!-- ${d.excerpt.marker} -->`;
      if (d.expected) {
        drifted++;
        out(`${write ? "refreshed" : "drifted"}: ${where}: ${d.problem}`);
      } else {
        broken++;
        out(`broken: ${where}: ${d.problem}`);
      }
    }
    if (write && drifts.some((d) => d.expected)) writeFileSync(join(root, doc.path), refreshDoc(doc, drifts));
  }
  out(`${total} excerpts, ${drifted} ${write ? "refreshed" : "drifted"}, ${broken} broken`);
  if (broken > 0) return 1;
  return !write && drifted > 0 ? 1 : 0;
}

if (import.meta.main) process.exit(run(process.argv.slice(2)));
