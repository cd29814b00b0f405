// Manifest excerpts in the guide are quoted from the real files, never copied by hand. A fenced
// block preceded by one of these comments must equal the file's lines (common indentation removed):
//
//   <!-- excerpt: kustomize/base/deployment.yaml "startupProbe:" 7 -->   7 lines from the (only) line containing the text
//   <!-- excerpt: kustomize/base/hpa.yaml#L17-L25 -->                    lines 17 to 25
//
// The quoted form survives edits above the excerpt; the anchor text must occur on exactly one
// line of the file. `bun run scripts/docs-excerpts.ts --write` refreshes every block.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadDocs, ROOT, type Doc, type Fence } from "./markdown";

export type ExcerptSpec =
  | { file: string; kind: "anchor"; anchor: string; count: number }
  | { file: string; kind: "lines"; from: number; to: number };

export interface Excerpt {
  doc: string;
  fence: Fence;
  spec: ExcerptSpec;
  /** The marker text, for messages. */
  marker: string;
}

const ANCHOR = /^excerpt:\s+(\S+)\s+"((?:[^"\\]|\\.)+)"\s+(\d+)$/;
const LINES = /^excerpt:\s+([^\s#]+)#L(\d+)-L(\d+)$/;

export function parseExcerptMarker(marker: string): ExcerptSpec | { error: string } | null {
  if (!/^excerpt\b/.test(marker)) return null;
  let m = ANCHOR.exec(marker);
  if (m) return { file: m[1]!, kind: "anchor", anchor: m[2]!.replace(/\\(.)/g, "$1"), count: Number(m[3]) };
  m = LINES.exec(marker);
  if (m) return { file: m[1]!, kind: "lines", from: Number(m[2]), to: Number(m[3]) };
  return { error: `malformed excerpt marker "<!-- ${marker} -->": use excerpt: <file> "<text>" <count> or excerpt: <file>#L<from>-L<to>` };
}

export function excerptsOf(doc: Doc): { excerpts: Excerpt[]; errors: string[] } {
  const excerpts: Excerpt[] = [];
  const errors: string[] = [];
  for (const fence of doc.fences) {
    if (!fence.marker) continue;
    const spec = parseExcerptMarker(fence.marker);
    if (spec === null) continue;
    if ("error" in spec) errors.push(`${doc.path}:${fence.line - 1}: ${spec.error}`);
    else excerpts.push({ doc: doc.path, fence, spec, marker: fence.marker });
  }
  // An excerpt marker not directly above a fence is a mistake too.
  doc.lines.forEach((line, i) => {
    const m = /^\s*<!--\s*(excerpt:.*?)\s*-->\s*$/.exec(line);
    if (m && !doc.fences.some((f) => f.line === i + 2)) errors.push(`${doc.path}:${i + 1}: excerpt marker is not directly followed by a fenced block`);
  });
  return { excerpts, errors };
}

/** Removes the indentation common to all non-blank lines. */
export function dedent(lines: string[]): string[] {
  const indents = lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut).trimEnd());
}

/** The lines an excerpt should show, or an error message. */
export function expectedLines(spec: ExcerptSpec, root: string): string[] | { error: string } {
  const path = join(root, spec.file);
  if (!existsSync(path)) return { error: `${spec.file} does not exist` };
  const text = readFileSync(path, "utf8");
  const lines = (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n");
  let from: number;
  let to: number;
  if (spec.kind === "anchor") {
    const hits = lines.flatMap((l, i) => (l.includes(spec.anchor) ? [i] : []));
    if (hits.length === 0) return { error: `${spec.file} has no line containing ${JSON.stringify(spec.anchor)}` };
    if (hits.length > 1) return { error: `${JSON.stringify(spec.anchor)} occurs on ${hits.length} lines of ${spec.file} (${hits.map((h) => h + 1).join(", ")}): make the anchor unique` };
    from = hits[0]!;
    to = from + spec.count - 1;
  } else {
    from = spec.from - 1;
    to = spec.to - 1;
  }
  if (spec.kind === "anchor" ? spec.count < 1 : from < 0 || to < from) return { error: "empty line range" };
  if (to >= lines.length) return { error: `${spec.file} has only ${lines.length} lines; the excerpt wants lines ${from + 1}-${to + 1}` };
  return dedent(lines.slice(from, to + 1));
}

export interface Drift {
  excerpt: Excerpt;
  expected: string[] | null;
  problem: string;
}

/** Excerpts whose block differs from the file (or cannot be resolved). */
export function checkExcerpts(excerpts: Excerpt[], root: string): Drift[] {
  const drifts: Drift[] = [];
  for (const ex of excerpts) {
    const want = expectedLines(ex.spec, root);
    if ("error" in want) {
      drifts.push({ excerpt: ex, expected: null, problem: want.error });
      continue;
    }
    const got = ex.fence.lines.map((l) => l.trimEnd());
    if (got.join("\n") !== want.join("\n")) {
      const at = got.findIndex((l, i) => l !== want[i]);
      const i = at === -1 ? Math.min(got.length, want.length) : at;
      drifts.push({
        excerpt: ex,
        expected: want,
        problem: `line ${i + 1} of the block is ${JSON.stringify(got[i] ?? "(missing)")}, the file has ${JSON.stringify(want[i] ?? "(nothing)")}`,
      });
    }
  }
  return drifts;
}

/** The doc text with every drifted excerpt replaced by the file's lines (resolvable ones only). */
export function refreshDoc(doc: Doc, drifts: Drift[]): string {
  const lines = [...doc.lines];
  // Bottom-up, so earlier indices stay valid.
  const fixable = drifts.filter((d) => d.excerpt.doc === doc.path && d.expected).sort((a, b) => b.excerpt.fence.start - a.excerpt.fence.start);
  for (const d of fixable) lines.splice(d.excerpt.fence.start, d.excerpt.fence.end - d.excerpt.fence.start, ...d.expected!);
  return lines.join("\n");
}

/** The docs-excerpts command: check (exit 1 on drift or breakage), or refresh with --write; 2 on usage errors. */
export function runExcerpts(argv: string[], root = ROOT, out: (line: string) => void = console.log): number {
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
