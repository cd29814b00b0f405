// The guide's HTTP steps (docs/*.md) against a local service: every `curl` in a shell block is
// sent, in order, one check per page, and must answer what the page says (`# expect 503 {...}`:
// that status and those JSON fields) or else a 2xx/3xx. Blocks under `<!-- e2e: skip (why) -->`
// need a cluster or would stop the service, and POST /crash is never sent. The host in the URL
// is replaced by the suite's base URL; cookie jars (-c/-b) are kept per page; the demo login
// admin/admin is replaced by the suite's credentials. Runs only with --single-process (the
// steps toggle probes), i.e. under `bun run test:e2e` without BASE_URL.
import { curlSteps, loadDocs, type CurlStep } from "../markdown";
import { request, type Reply } from "./client";
import { assert, Skip, type Check, type Context } from "./harness";

const NEVER = new Set(["POST /crash"]);

/** Does `actual` contain every field of `expected` (recursively, arrays compared whole)? */
export function containsJson(actual: unknown, expected: unknown): boolean {
  if (expected === null || typeof expected !== "object" || Array.isArray(expected)) return Bun.deepEquals(actual, expected);
  if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return false;
  return Object.entries(expected).every(([k, v]) => containsJson((actual as Record<string, unknown>)[k], v));
}

type Jar = Map<string, string>;

function bodyFor(step: CurlStep, ctx: Context): string | null {
  if (step.body === null) return null;
  try {
    const parsed = JSON.parse(step.body) as Record<string, unknown>;
    if (parsed && parsed.username === "admin" && parsed.password === "admin") {
      return JSON.stringify({ ...parsed, username: ctx.username, password: ctx.password });
    }
  } catch {
    // not JSON: sent as written
  }
  return step.body;
}

function storeCookies(reply: Reply, jar: Jar) {
  for (const line of reply.headers.getSetCookie()) {
    const [pair = "", ...attrs] = line.split(";").map((s) => s.trim());
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const expired = value === "" || attrs.some((a) => /^max-age=0$/i.test(a) || /^expires=.*1970/i.test(a));
    if (expired) jar.delete(name);
    else jar.set(name, value);
  }
}

async function runStep(step: CurlStep, ctx: Context, jars: Map<string, Jar>): Promise<void> {
  const where = `${step.doc}:${step.line}: ${step.source}`;
  const headers: Record<string, string> = { ...step.headers };
  const body = bodyFor(step, ctx);
  const jar = step.readJar ? jars.get(step.readJar) : undefined;
  const cookie = jar && jar.size ? [...jar].map(([k, v]) => `${k}=${v}`).join("; ") : undefined;
  const contentType = headers["content-type"] ?? "application/x-www-form-urlencoded";
  delete headers["content-type"];
  const reply = await request(ctx.baseUrl, step.method, step.pathAndQuery, {
    headers,
    cookie,
    raw: body !== null ? { text: body, contentType } : undefined,
    timeoutMs: 20_000,
  });
  if (step.writeJar) {
    const target = jars.get(step.writeJar) ?? new Map<string, string>();
    jars.set(step.writeJar, target);
    storeCookies(reply, target);
  }
  if (step.expect) {
    assert(reply.status === step.expect.status, `${where}\n  expected HTTP ${step.expect.status}, got ${reply.status} ${reply.text.slice(0, 200)}`);
    if (step.expect.json !== null) {
      assert(containsJson(reply.json, step.expect.json), `${where}\n  expected the reply to contain ${JSON.stringify(step.expect.json)}, got ${reply.text.slice(0, 300)}`);
    }
  } else {
    assert(reply.status >= 200 && reply.status < 400, `${where}\n  expected a 2xx or 3xx, got ${reply.status} ${reply.text.slice(0, 200)}`);
  }
}

// The guide's pages only: the reference pages' examples are illustrations, not steps to follow.
export function docsStepChecks(docs = loadDocs().filter((d) => !d.path.startsWith("docs/reference/") && d.path !== "docs/contributing.md")): Check[] {
  return docs
    .map((doc) => ({ doc: doc.path, steps: curlSteps(doc) }))
    .filter(({ steps }) => steps.length > 0)
    .map(({ doc, steps }) => ({
      name: `docs: the HTTP steps of ${doc}`,
      group: "http" as const,
      async run(ctx: Context) {
        if (!ctx.singleProcess) throw new Skip("only against a single local process (--single-process): the steps toggle probes; in a cluster, follow the page");
        const runnable = steps.filter((s) => !s.marker?.startsWith("e2e: skip") && !NEVER.has(`${s.method} ${s.path}`));
        if (runnable.length === 0) throw new Skip(`all ${steps.length} HTTP step(s) are marked e2e: skip (a cluster, or they stop the service)`);
        const jars = new Map<string, Jar>();
        try {
          for (const step of runnable) await runStep(step, ctx, jars);
        } finally {
          // Leave the service as the page found it.
          for (const path of ["/ready/enable", "/health/enable", "/stress/memory/release"]) {
            await request(ctx.baseUrl, "POST", path).catch(() => {});
          }
        }
        const left = steps.length - runnable.length;
        return `${runnable.length} step(s) ran${left ? `, ${left} not run here (e2e: skip or POST /crash)` : ""}`;
      },
    }));
}
