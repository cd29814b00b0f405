#!/usr/bin/env bun
// Manifest excerpts in docs/ are quoted from the real files (see scripts/lib/excerpts.ts for the
// marker syntax). This script checks them, or with --write refreshes every drifted block from
// the files it quotes:
//
//   bun run scripts/docs-excerpts.ts           list drifted or broken excerpts (exit 1 if any)
//   bun run scripts/docs-excerpts.ts --write   rewrite the drifted blocks in place
//
// Broken markers (missing file, anchor not found or not unique) are never rewritten: fix them by hand.
import { runExcerpts } from "./lib/excerpts";

process.exit(runExcerpts(process.argv.slice(2)));
