// The docs-don't-rot checks. Each returns a list of problems ("docs/x.md:12: ..."); empty is good.
// Pure functions over parsed docs, so tests can feed them broken fixtures and see them fail.
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { checkExcerpts, excerptsOf } from "../../scripts/lib/excerpts";
import { curlSteps, headingAnchors, isLocalUrl, isShell, parseCurl, shellComment, shellWords, type Doc } from "../../scripts/lib/markdown";

export interface Route {
  method: string;
  path: string;
}

/** Does `path` match a route template such as /kv/:key? */
export function routeMatches(route: Route, method: string, path: string): boolean {
  if (route.method !== method && !(route.method === "ALL")) return false;
  const t = route.path.split("/");
  const p = path.split("/");
  if (t.length !== p.length) return false;
  return t.every((seg, i) => seg.startsWith(":") ? p[i]!.length > 0 : seg === "*" || seg === p[i]);
}

export interface RouteUse {
  doc: string;
  line: number;
  method: string;
  path: string;
  source: string;
}

/** Every request a doc makes of this service: curl commands, `METHOD /path` and local `http://` URLs. */
export function routeUses(doc: Doc): RouteUse[] {
  const uses: RouteUse[] = [];
  for (const s of curlSteps(doc)) {
    if (isLocalUrl(s.url)) uses.push({ doc: doc.path, line: s.line, method: s.method, path: s.path, source: s.source });
  }
  const fromText = (text: string, line: number, inCode: boolean) => {
    for (const m of text.matchAll(/\bhttps?:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/[^\s`'")<>\]]*)?/g)) {
      // curl lines are parsed above with their method; here only other mentions (prose, links, comments).
      const path = (m[3] ?? "/").split(/[?#]/)[0]!.replace(/[.,;:]+$/, "") || "/";
      uses.push({ doc: doc.path, line, method: "GET", path, source: m[0] });
    }
    if (inCode) {
      const m = /^(GET|POST|PUT|PATCH|DELETE|HEAD)\s+(\/[^\s?`]*)/.exec(text);
      if (m) uses.push({ doc: doc.path, line, method: m[1]!, path: m[2]!, source: text });
    }
  };
  for (const span of doc.inline) {
    if (/^curl\s/.test(span.text)) {
      const c = parseCurl(shellWords(span.text).slice(1));
      if (c && isLocalUrl(c.url)) uses.push({ doc: doc.path, line: span.line, method: c.method, path: c.path, source: span.text });
    } else fromText(span.text, span.line, true);
  }
  for (const span of doc.links) fromText(span.text, span.line, false);
  // Prose outside code: bare URLs.
  for (const span of doc.prose) fromText(span.text.replace(/(`+)(.+?)\1/g, "").replace(/\]\([^)]*\)/g, "]"), span.line, false);
  // Shell lines that are not curl (e.g. `open http://...`, comments).
  for (const fence of doc.fences.filter(isShell)) {
    fence.lines.forEach((l, k) => {
      if (/\bcurl\s/.test(l)) return;
      fromText(l, fence.start + k + 1, false);
    });
  }
  return uses;
}

export function checkRoutes(docs: Doc[], routes: Route[]): string[] {
  const problems: string[] = [];
  for (const doc of docs) {
    for (const use of routeUses(doc)) {
      if (!routes.some((r) => routeMatches(r, use.method, use.path))) {
        const other = routes.filter((r) => routeMatches({ ...r, method: use.method }, use.method, use.path)).map((r) => r.method);
        problems.push(`${use.doc}:${use.line}: ${use.method} ${use.path} is not a route of the app${other.length ? ` (it answers ${other.join(", ")})` : ""}: ${use.source}`);
      }
    }
  }
  return problems;
}

/** `task <name>` in code (fenced shell blocks and inline code), with the line. */
export function taskUses(doc: Doc): Array<{ name: string; line: number }> {
  const uses: Array<{ name: string; line: number }> = [];
  const scan = (text: string, line: number) => {
    for (const m of text.matchAll(/(?:^|[\s;&|(:])task\s+([a-z][a-z0-9:_-]*)/g)) uses.push({ name: m[1]!, line });
    if (/^\s*task\s*$/.test(text)) uses.push({ name: "default", line });
  };
  for (const fence of doc.fences.filter(isShell)) fence.lines.forEach((l, k) => scan(l, fence.start + k + 1));
  for (const span of doc.inline) scan(span.text, span.line);
  return uses;
}

export function checkTasks(docs: Doc[], tasks: string[]): string[] {
  const problems: string[] = [];
  for (const doc of docs) {
    for (const use of taskUses(doc)) {
      if (!tasks.includes(use.name)) problems.push(`${doc.path}:${use.line}: task ${use.name} is not in Taskfile.yml`);
    }
  }
  return problems;
}

const PATH_PREFIX = /^(kustomize|src|scripts|tests|docs|bench)\//;
const TOP_FILES = new Set(["Dockerfile", "Taskfile.yml", "package.json", "README.md", "bunfig.toml", "tsconfig.json", ".dockerignore"]);

/** Repo paths named in inline code and shell blocks (placeholders like <name> or $X are skipped). */
export function pathUses(doc: Doc): Array<{ path: string; line: number }> {
  const uses: Array<{ path: string; line: number }> = [];
  const scan = (text: string, line: number) => {
    for (const raw of text.split(/[\s"'`=(),]+/)) {
      const token = raw.replace(/[.,;:]+$/, "").replace(/#.*$/, "").replace(/:\d+(-\d+)?$/, "");
      if (!token || /[<>*${}]|\.\.\./.test(token)) continue;
      if (PATH_PREFIX.test(token) || TOP_FILES.has(token)) uses.push({ path: token.replace(/\/$/, ""), line });
    }
  };
  for (const span of doc.inline) scan(span.text, span.line);
  for (const fence of doc.fences.filter(isShell)) {
    const before = uses.length;
    fence.lines.forEach((l, k) => scan(l, fence.start + k + 1));
    // A directory the block itself creates (`mkdir -p kustomize/overlays/mine`) is not a repo path.
    const created = fence.lines.flatMap((l) => [...l.matchAll(/\bmkdir\s+(?:-p\s+)?(\S+)/g)].map((m) => m[1]!.replace(/\/$/, "")));
    if (created.length) {
      const kept = uses.splice(before).filter((u) => !created.some((dir) => u.path === dir || u.path.startsWith(dir + "/")));
      uses.push(...kept);
    }
  }
  return uses;
}

export function checkPaths(docs: Doc[], root: string): string[] {
  const problems: string[] = [];
  for (const doc of docs) {
    for (const use of pathUses(doc)) {
      if (!existsSync(join(root, use.path))) problems.push(`${doc.path}:${use.line}: ${use.path} does not exist`);
    }
  }
  return problems;
}

/** Relative links (and their #anchors) resolve: to a file or directory in the repo, and a heading. */
export function checkLinks(docs: Doc[], root: string): string[] {
  const problems: string[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsOf = (file: string) => {
    if (!anchorCache.has(file)) anchorCache.set(file, headingAnchors(readFileSync(file, "utf8")));
    return anchorCache.get(file)!;
  };
  for (const doc of docs) {
    for (const link of doc.links) {
      const target = link.text;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [file = "", anchor] = target.split("#", 2);
      const abs = file === "" ? join(root, doc.path) : normalize(join(root, dirname(doc.path), decodeURIComponent(file)));
      const rel = relative(root, abs);
      if (rel.startsWith("..")) {
        problems.push(`${doc.path}:${link.line}: link ${target} leaves the repository`);
        continue;
      }
      if (!existsSync(abs)) {
        problems.push(`${doc.path}:${link.line}: link ${target} does not resolve (${rel} does not exist)`);
        continue;
      }
      if (anchor !== undefined && anchor !== "" && statSync(abs).isFile() && abs.endsWith(".md") && !anchorsOf(abs).has(anchor)) {
        problems.push(`${doc.path}:${link.line}: link ${target}: ${rel} has no heading #${anchor}`);
      }
    }
  }
  return problems;
}

export function checkAllExcerpts(docs: Doc[], root: string): string[] {
  const problems: string[] = [];
  for (const doc of docs) {
    const { excerpts, errors } = excerptsOf(doc);
    problems.push(...errors);
    for (const d of checkExcerpts(excerpts, root)) {
      problems.push(`${doc.path}:${d.excerpt.fence.line}: excerpt <!-- ${d.excerpt.marker} --> ${d.expected ? "drifted" : "is broken"}: ${d.problem}`);
    }
  }
  return problems;
}

const isLesson = (doc: Doc) => /^docs\/\d{2}-/.test(doc.path);
const POD_SET = /\bPOD=\$\(/;
const POD_USE = /\$POD\b|\$\{POD\}/;

/**
 * Lessons work in any order: each states the state it starts from, sets $POD itself before using
 * it, stops every background job in the block that starts it (`kill %N` or `wait`), and leaves
 * watches (`kubectl ... -w`, `--watch`, `--follow`) to a second terminal instead of a block.
 */
export function checkLessonsStandalone(docs: Doc[]): string[] {
  const problems: string[] = [];
  for (const doc of docs.filter(isLesson)) {
    const start = doc.prose.find((p) => p.text.startsWith("**Start from:**"));
    const run = doc.prose.find((p) => p.text.startsWith("## What to run"));
    if (!start || (run && start.line > run.line)) problems.push(`${doc.path}: no "**Start from:**" line before "## What to run"`);

    const code: Array<{ text: string; line: number }> = [
      ...doc.inline,
      ...doc.fences.filter(isShell).flatMap((f) => f.lines.map((text, k) => ({ text, line: f.start + k + 1 }))),
    ];
    const firstSet = Math.min(...code.filter((c) => POD_SET.test(c.text)).map((c) => c.line));
    for (const use of code.filter((c) => POD_USE.test(c.text) && !POD_SET.test(c.text))) {
      if (use.line < firstSet) problems.push(`${doc.path}:${use.line}: uses $POD before the lesson sets it (POD=$(kubectl get pod -l ...))`);
    }

    for (const fence of doc.fences.filter(isShell)) {
      fence.lines.forEach((raw, k) => {
        const line = fence.start + k + 1;
        const { code: cmd } = shellComment(raw);
        if (/(^|[^&])&(\s|$)/.test(cmd.replace(/&&/g, "")) && !fence.lines.slice(k + 1).some((l) => /\bkill\b[^#]*%\d|^\s*wait\b/.test(shellComment(l).code))) {
          problems.push(`${doc.path}:${line}: a background job that the block never stops (add kill %1 or wait): ${raw.trim()}`);
        }
        if (/\bkubectl\b.*\s(-w|--watch)(\s|$)|\btask\b.*\s--(watch|follow)(\s|$)/.test(cmd)) {
          problems.push(`${doc.path}:${line}: a watch inside a block never returns; send it to a second terminal: ${raw.trim()}`);
        }
      });
    }
  }
  return problems;
}
