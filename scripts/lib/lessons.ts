// The guide's lessons (docs/NN-*.md) as steps a machine can run: every shell block, split into
// the commands a learner would paste, each with the expectation written in its trailing comment.
// scripts/lib/lesson-runner.ts runs them on the local cluster; tests/docs checks that they parse.
//
// A trailing comment that starts with `expect` is checked; any other comment is prose for the
// reader. After `expect`, in any order, then free text:
//
//   within 60s         retry the command (every 2 s) until the rest holds or 60 s have passed
//   503 {"a":1}        a curl: that HTTP status, and a JSON body containing those fields
//   "text"             the output contains text (a JSON string: \" and \\ escape)
//   /regex/            the output matches (a JavaScript regular expression, flags i m s allowed)
//   !"text" !/regex/   the output does not contain / match it
//   exit 2, fails      that exit status, any non-zero one (default: 0)
//   empty              no output at all
//
// A block under `<!-- cluster: skip (why) -->` (the marker may also carry `e2e: skip (...)`,
// separated by `;`) is not run, and says why.
import { basename } from "node:path";
import { containsJson } from "./e2e/docs-steps";
import { isShell, loadDocs, shellComment, type Doc } from "./markdown";

export interface Expectation {
  status: number | null;
  json: unknown;
  contains: string[];
  excludes: string[];
  matches: RegExp[];
  rejects: RegExp[];
  /** Required exit status; "nonzero" for `fails`. */
  exit: number | "nonzero";
  empty: boolean;
  withinSeconds: number | null;
}

export interface LessonCommand {
  /** 1-based line of the command's first line in the page. */
  line: number;
  /** The command as bash receives it: continuation and heredoc lines included. */
  text: string;
  expect: Expectation | null;
}

export interface LessonBlock {
  line: number;
  /** The reason after `cluster: skip`, or null when the block runs. */
  skip: string | null;
  commands: LessonCommand[];
}

export interface Lesson {
  /** "07" */
  number: string;
  path: string;
  title: string;
  blocks: LessonBlock[];
}

export class ExpectationError extends Error {}

const LESSON_FILE = /^(\d{2})-.+\.md$/;

/** The `cluster: skip (why)` reason in a fence marker (it may follow `e2e: skip (...);`), or null. */
export function clusterSkip(marker: string | null): string | null {
  const m = marker ? /(?:^|;)\s*cluster:\s*skip\s*\(/.exec(marker) : null;
  if (!m) return null;
  let depth = 1;
  const start = m.index + m[0].length;
  for (let i = start; i < marker!.length; i++) {
    if (marker![i] === "(") depth++;
    else if (marker![i] === ")" && --depth === 0) return marker!.slice(start, i).trim() || null;
  }
  return null;
}

/** Reads one JSON value (object or string) starting at `s[i]`; returns it and the index after it. */
function readJson(s: string, i: number): [unknown, number] {
  let depth = 0;
  let inString = false;
  for (let j = i; j < s.length; j++) {
    const c = s[j]!;
    if (inString) {
      if (c === "\\") j++;
      else if (c === '"') {
        inString = false;
        if (depth === 0) return [JSON.parse(s.slice(i, j + 1)), j + 1];
      }
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return [JSON.parse(s.slice(i, j + 1)), j + 1];
    }
  }
  throw new ExpectationError(`unterminated JSON in: ${s.slice(i)}`);
}

function readRegex(s: string, i: number): [RegExp, number] {
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === "\\") j++;
    else if (s[j] === "/") {
      const flags = /^[ims]*/.exec(s.slice(j + 1))![0];
      return [new RegExp(s.slice(i + 1, j), flags), j + 1 + flags.length];
    }
  }
  throw new ExpectationError(`unterminated /regex/ in: ${s.slice(i)}`);
}

/**
 * Parses a trailing comment. Returns null for prose; throws ExpectationError for a comment that
 * starts with `expect` but says nothing checkable, so a typo cannot pass as a check.
 */
export function parseExpectation(comment: string | null): Expectation | null {
  if (!comment || !/^expect\b/.test(comment)) return null;
  const s = comment;
  const e: Expectation = { status: null, json: undefined, contains: [], excludes: [], matches: [], rejects: [], exit: 0, empty: false, withinSeconds: null };
  let terms = 0;
  let i = "expect".length;
  for (;;) {
    while (s[i] === " " || s[i] === ",") i++;
    if (i >= s.length) break;
    const rest = s.slice(i);
    let m: RegExpExecArray | null;
    const negated = s[i] === "!" && (s[i + 1] === '"' || s[i + 1] === "/");
    const at = negated ? i + 1 : i;
    if ((m = /^within (\d+)s\b/.exec(rest))) {
      e.withinSeconds = Number(m[1]);
      i += m[0].length;
      continue; // a modifier, not a check by itself
    } else if ((m = /^(\d{3})\b/.exec(rest))) {
      e.status = Number(m[1]);
      i += m[0].length;
    } else if (!negated && s[i] === "{") {
      [e.json, i] = readJson(s, i);
      if (e.status === null) throw new ExpectationError(`a JSON body without an HTTP status: ${s}`);
    } else if (s[at] === '"') {
      const [text, end] = readJson(s, at);
      (negated ? e.excludes : e.contains).push(text as string);
      i = end;
    } else if (s[at] === "/") {
      const [re, end] = readRegex(s, at);
      (negated ? e.rejects : e.matches).push(re);
      i = end;
    } else if ((m = /^exit (\d+)\b/.exec(rest))) {
      e.exit = Number(m[1]);
      i += m[0].length;
    } else if ((m = /^fails\b/.exec(rest))) {
      e.exit = "nonzero";
      i += m[0].length;
    } else if ((m = /^empty\b/.exec(rest))) {
      e.empty = true;
      i += m[0].length;
    } else break; // the rest is prose
    terms++;
  }
  if (terms === 0) throw new ExpectationError(`"# ${comment}" has no check (a status, "text", /regex/, exit N, fails or empty)`);
  return e;
}

/** Splits a shell block into commands: `\` continuations and heredocs stay with their command. */
export function splitCommands(lines: string[], firstLine: number): LessonCommand[] {
  const out: LessonCommand[] = [];
  for (let k = 0; k < lines.length; k++) {
    const start = k;
    const raw = lines[k]!;
    if (raw.trim() === "" || raw.trim().startsWith("#")) continue;
    const parts = [raw];
    while (parts[parts.length - 1]!.endsWith("\\") && k + 1 < lines.length) parts.push(lines[++k]!);
    const heredoc = /<<-?\s*'?"?(\w+)'?"?/.exec(shellComment(parts.join("\n")).code);
    if (heredoc) {
      const end = heredoc[1]!;
      while (k + 1 < lines.length) {
        parts.push(lines[++k]!);
        if (lines[k]!.trim() === end) break;
      }
    }
    const last = heredoc ? parts[0]! : parts[parts.length - 1]!;
    const expect = parseExpectation(shellComment(last).comment);
    out.push({ line: firstLine + start, text: parts.join("\n"), expect });
  }
  return out;
}

export function lessonFromDoc(doc: Doc): Lesson | null {
  const m = LESSON_FILE.exec(basename(doc.path));
  if (!m) return null;
  const title = (doc.lines.find((l) => l.startsWith("# ")) ?? doc.path).replace(/^#\s+/, "");
  const blocks = doc.fences.filter(isShell).map((f) => ({ line: f.line, skip: clusterSkip(f.marker), commands: splitCommands(f.lines, f.start + 1) }));
  return { number: m[1]!, path: doc.path, title, blocks };
}

/** Every lesson of the guide, in order. */
export function loadLessons(): Lesson[] {
  return loadDocs()
    .filter((d) => d.path.startsWith("docs/") && !d.path.slice("docs/".length).includes("/"))
    .map(lessonFromDoc)
    .filter((l): l is Lesson => l !== null);
}

export interface Outcome {
  output: string;
  code: number;
}

/** Splits a curl's output into its HTTP status (written by the runner's -w) and body. */
export function splitStatus(output: string): { status: number | null; body: string } {
  const m = /\n?__HTTP_STATUS__(\d{3})\s*$/.exec(output);
  if (!m) return { status: null, body: output };
  let body = output.slice(0, m.index);
  // With -i the headers come first: the body is after the last blank line of the head.
  const head = /^HTTP\/[\d.]+ \d{3}[^]*?\r?\n\r?\n/.exec(body);
  if (head) body = body.slice(head[0].length);
  return { status: Number(m[1]), body };
}

/** What is wrong with an outcome against an expectation ([] when it holds). */
export function unmet(expect: Expectation | null, outcome: Outcome): string[] {
  const problems: string[] = [];
  const e = expect;
  const wantExit = e?.exit ?? 0;
  if (wantExit === "nonzero" ? outcome.code === 0 : outcome.code !== wantExit) {
    problems.push(`exit status ${outcome.code}, expected ${wantExit === "nonzero" ? "a failure" : wantExit}`);
  }
  if (!e) return problems;
  const { status, body } = splitStatus(outcome.output);
  const text = e.status !== null ? body : outcome.output;
  if (e.status !== null && status !== e.status) problems.push(`HTTP ${status ?? "(none)"}, expected ${e.status}`);
  if (e.json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    if (!containsJson(parsed, e.json)) problems.push(`body does not contain ${JSON.stringify(e.json)}`);
  }
  for (const t of e.contains) if (!text.includes(t)) problems.push(`output lacks ${JSON.stringify(t)}`);
  for (const t of e.excludes) if (text.includes(t)) problems.push(`output has ${JSON.stringify(t)}`);
  for (const re of e.matches) if (!re.test(text)) problems.push(`output does not match ${re}`);
  for (const re of e.rejects) if (re.test(text)) problems.push(`output matches ${re}`);
  if (e.empty && text.trim() !== "") problems.push("output is not empty");
  return problems;
}
