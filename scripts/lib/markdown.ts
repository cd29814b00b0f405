// Reading the guide in docs/: fenced blocks (with the HTML comment just above them), inline
// code, links, and the `curl` commands inside the shell blocks. Shared by tests/docs/docs.test.ts,
// scripts/docs-excerpts.ts and the e2e docs steps (scripts/lib/e2e/docs-steps.ts).
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

import { ROOT } from "./repo";

export { ROOT };
export const DOCS_DIR = "docs";

export interface Fence {
  /** Info string after the opening fence (`sh`, `yaml`, ...). */
  lang: string;
  /** Lines between the fences. */
  lines: string[];
  /** 1-based line of the opening fence. */
  line: number;
  /** Index (0-based) of the first content line and one past the last, in the file's lines. */
  start: number;
  end: number;
  /** The `<!-- ... -->` comment on the line just above the opening fence, if any. */
  marker: string | null;
}

export interface Span {
  text: string;
  line: number;
}

export interface Doc {
  /** Path relative to the repo root, e.g. docs/01-desired-state.md. */
  path: string;
  text: string;
  lines: string[];
  fences: Fence[];
  /** Inline `code` spans outside fenced blocks. */
  inline: Span[];
  /** Targets of Markdown links `[text](target)` outside fenced blocks. */
  links: Span[];
  /** Lines outside fenced blocks (prose, headings, tables). */
  prose: Span[];
}

const FENCE = /^(\s*)(`{3,}|~{3,})(.*)$/;
const MARKER = /^\s*<!--\s*(.*?)\s*-->\s*$/;

export function parseDoc(path: string, text: string): Doc {
  const lines = text.split("\n");
  const fences: Fence[] = [];
  const inline: Span[] = [];
  const links: Span[] = [];
  const prose: Span[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (open) {
      const fence = open[2]!;
      let j = i + 1;
      while (j < lines.length && !(lines[j]!.trim().startsWith(fence[0]!.repeat(fence.length)) && lines[j]!.trim().replace(/[`~]/g, "") === "")) j++;
      const prev = i > 0 ? MARKER.exec(lines[i - 1]!) : null;
      fences.push({ lang: open[3]!.trim(), lines: lines.slice(i + 1, j), line: i + 1, start: i + 1, end: j, marker: prev ? prev[1]! : null });
      i = j;
      continue;
    }
    const line = lines[i]!;
    prose.push({ text: line, line: i + 1 });
    for (const m of line.matchAll(/(`+)(.+?)\1/g)) inline.push({ text: m[2]!.trim(), line: i + 1 });
    // Links, not inside inline code.
    const noCode = line.replace(/(`+)(.+?)\1/g, "");
    for (const m of noCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) links.push({ text: m[1]!, line: i + 1 });
  }
  return { path, text, lines, fences, inline, links, prose };
}

/** Every Markdown file under docs/, sorted, parsed. */
/** Every page under docs/ (the guide, docs/reference/, docs/contributing.md), sorted by path. */
export function loadDocs(root = ROOT): Doc[] {
  const dir = join(root, DOCS_DIR);
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => parseDoc(`${DOCS_DIR}/${f}`, readFileSync(join(dir, f), "utf8")));
}

export const isShell = (f: Fence) => ["sh", "bash", "shell", "console"].includes(f.lang);

// ---- shell and curl --------------------------------------------------------------------------

/** Splits a shell line into words, honouring '...' and "..." quotes and backslash escapes. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur = "";
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      cur += line.slice(i + 1, end === -1 ? undefined : end);
      i = end === -1 ? line.length : end;
      has = true;
    } else if (c === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') {
        if (line[j] === "\\" && j + 1 < line.length) j++;
        cur += line[j];
        j++;
      }
      i = j;
      has = true;
    } else if (c === "\\" && i + 1 < line.length) {
      cur += line[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has) words.push(cur);
      cur = "";
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) words.push(cur);
  return words;
}

/** The comment part of a shell line (after an unquoted `#` preceded by a space), trimmed. */
export function shellComment(line: string): { code: string; comment: string | null } {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return { code: line.slice(0, i).trimEnd(), comment: line.slice(i + 1).trim() };
  }
  return { code: line, comment: null };
}

/** Shell commands of one line: split on unquoted ; && || | & and loop keywords. */
export function shellCommands(code: string): string[] {
  const out: string[] = [];
  let quote: string | null = null;
  let cur = "";
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    if (quote) {
      if (c === quote) quote = null;
      cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      cur += c;
    } else if (c === ";" || c === "|" || c === "&") {
      out.push(cur);
      cur = "";
      if (code[i + 1] === c) i++;
    } else cur += c;
  }
  out.push(cur);
  return out
    .map((s) => s.trim().replace(/^(do|then|else|while true|\$\()\s+/, "").replace(/^\(+/, "").trim())
    .filter(Boolean);
}

export interface CurlStep {
  doc: string;
  /** 1-based line in the doc. */
  line: number;
  /** The whole source line (continuations joined). */
  source: string;
  method: string;
  url: string;
  /** Path without the query string. */
  path: string;
  /** Path with the query string. */
  pathAndQuery: string;
  headers: Record<string, string>;
  body: string | null;
  /** Cookie jar file read (-b) and written (-c). */
  readJar: string | null;
  writeJar: string | null;
  /** From a trailing `# expect <status> [json]` comment. */
  expect: { status: number; json: unknown } | null;
  /** The fence's marker comment (e.g. `e2e: skip ...`). */
  marker: string | null;
}

const NO_ARG = new Set(["-s", "-S", "-i", "-v", "-N", "-L", "-f", "-sS", "-si", "-sN", "-sf", "-fsS", "-fsSL", "-sSL", "--silent", "--include", "--no-buffer", "--fail", "--location", "--show-error", "-k", "--insecure"]);

/** Parses one `curl ...` command (words after `curl`). Returns null when no URL is found. */
export function parseCurl(words: string[]): Omit<CurlStep, "doc" | "line" | "source" | "expect" | "marker"> | null {
  let method: string | null = null;
  let url: string | null = null;
  let body: string | null = null;
  let readJar: string | null = null;
  let writeJar: string | null = null;
  const headers: Record<string, string> = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = () => words[++i] ?? "";
    if (w === "-X" || w === "--request") method = next().toUpperCase();
    else if (w.startsWith("-X") && w.length > 2) method = w.slice(2).toUpperCase();
    else if (w === "-d" || w === "--data" || w === "--data-raw" || w === "--data-binary" || w === "--json") {
      body = next();
      if (w === "--json") headers["content-type"] ??= "application/json";
    } else if (w === "-H" || w === "--header") {
      const h = next();
      const colon = h.indexOf(":");
      if (colon > 0) headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
    } else if (w === "-b" || w === "--cookie") readJar = next();
    else if (w === "-c" || w === "--cookie-jar") writeJar = next();
    else if (w === "-o" || w === "--output" || w === "-w" || w === "--write-out" || w === "-m" || w === "--max-time" || w === "--connect-timeout" || w === "-u" || w === "--user") next();
    else if (NO_ARG.has(w) || w.startsWith("-")) continue;
    else if (url === null) url = w;
  }
  if (url === null) return null;
  const full = /^[a-z]+:\/\//i.test(url) ? url : `http://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(full.replace(/\$\{?\w+\}?/g, "x"));
  } catch {
    return null;
  }
  if (method === null) method = body !== null ? "POST" : "GET";
  return { method, url, path: parsed.pathname, pathAndQuery: parsed.pathname + parsed.search, headers, body, readJar, writeJar };
}

/** Every curl command in the doc's shell blocks, in order. */
export function curlSteps(doc: Doc): CurlStep[] {
  const steps: CurlStep[] = [];
  for (const fence of doc.fences.filter(isShell)) {
    for (let k = 0; k < fence.lines.length; k++) {
      let source = fence.lines[k]!;
      const line = fence.start + k + 1;
      while (source.endsWith("\\") && k + 1 < fence.lines.length) source = source.slice(0, -1) + " " + fence.lines[++k]!.trim();
      const { code, comment } = shellComment(source.replace(/^\s*\$\s+/, ""));
      let expect: CurlStep["expect"] = null;
      const m = comment ? /^expect (\d{3})\b\s*(\{.*\})?/.exec(comment) : null;
      if (m) expect = { status: Number(m[1]), json: m[2] ? JSON.parse(m[2]) : null };
      const curls = shellCommands(code).filter((c) => /^curl\s/.test(c));
      for (const c of curls) {
        const parsed = parseCurl(shellWords(c).slice(1));
        if (parsed) steps.push({ doc: doc.path, line, source: source.trim(), expect: curls.length === 1 ? expect : null, marker: fence.marker, ...parsed });
      }
    }
  }
  return steps;
}

/** Hosts that mean "this service" (kind, Docker Desktop, a port-forward, a local run). */
export const LOCAL_HOST = /^(127\.0\.0\.1|localhost)(:\d+)?$/;

export function isLocalUrl(url: string): boolean {
  try {
    return LOCAL_HOST.test(new URL(/^[a-z]+:\/\//i.test(url) ? url : `http://${url}`).host);
  } catch {
    return false;
  }
}

// ---- GitHub heading anchors --------------------------------------------------------------------

/** GitHub's heading ids: lowercase, punctuation dropped, spaces to hyphens, -1, -2 for repeats. */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let inFence = false;
  for (const line of text.split("\n")) {
    if (FENCE.test(line)) inFence = !inFence;
    if (inFence) continue;
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const slug = m[1]!
      .replace(/`/g, "")
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}
