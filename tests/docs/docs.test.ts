// Docs must not rot: every route a lesson calls exists in the app (method and path), every
// `task` it names is in Taskfile.yml, every repo path and relative link resolves, and every
// manifest excerpt still equals the lines of the file it quotes. The second half feeds the same
// checks broken fixtures, so each one is shown to fail when it should.
import { describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { checkAllExcerpts, checkLessonsStandalone, checkLinks, checkPaths, checkRoutes, checkTasks, routeMatches, routeUses, taskUses, type Route } from "./checks";
import { runExcerpts as excerptsScript } from "../../scripts/lib/excerpts";
import { curlSteps, headingAnchors, loadDocs, parseCurl, parseDoc, ROOT, shellWords } from "../../scripts/lib/markdown";
import { docsStepChecks } from "../../scripts/lib/e2e/docs-steps";
import { loadLessons } from "../../scripts/lib/lessons";
import type { Context } from "../../scripts/lib/e2e/harness";
import { testApp } from "../helpers/app";

const docs = loadDocs();
const { app } = testApp();
const routes: Route[] = app.routes.map((r) => ({ method: r.method, path: r.path }));
const tasks = Object.keys((parse(readFileSync(join(ROOT, "Taskfile.yml"), "utf8")) as { tasks: Record<string, unknown> }).tasks);
const FIX = "run `bun run scripts/docs-excerpts.ts --write` to refresh the excerpts from the files";

describe("docs/ (the Kubernetes guide)", () => {
  test("has an index, lessons, a kubectl cheatsheet and a troubleshooting page, all linked from the index", () => {
    const names = docs.map((d) => d.path);
    expect(names).toContain("docs/README.md");
    expect(names).toContain("docs/kubectl-cheatsheet.md");
    expect(names).toContain("docs/troubleshooting.md");
    const lessons = names.filter((n) => /^docs\/\d{2}-/.test(n));
    expect(lessons.length).toBeGreaterThanOrEqual(18);
    const index = docs.find((d) => d.path === "docs/README.md")!;
    const linked = new Set(index.links.map((l) => `docs/${l.text.split("#")[0]}`));
    for (const name of names) if (name !== "docs/README.md") expect(linked.has(name), `${name} is linked from docs/README.md`).toBe(true);
  });

  test("every lesson says what to run, what you should see, and why", () => {
    for (const doc of docs.filter((d) => /^docs\/\d{2}-/.test(d.path))) {
      const headings = doc.lines.filter((l) => l.startsWith("## ")).map((l) => l.slice(3).toLowerCase());
      for (const h of ["run", "see", "why"]) expect(headings.some((x) => x.includes(h)), `${doc.path} has a "${h}" section (headings: ${headings.join(" | ")})`).toBe(true);
      expect(doc.fences.some((f) => f.lang === "sh"), `${doc.path} has a sh block`).toBe(true);
    }
  });

  test("every shell block of a lesson runs on the cluster (bun run test:lessons) or says why not; its commands are complete and its expectations parse", () => {
    const lessons = loadLessons(); // throws on an `# expect` that checks nothing
    expect(lessons.length).toBe(docs.filter((d) => /^docs\/\d{2}-/.test(d.path)).length);
    const problems: string[] = [];
    let checked = 0;
    for (const lesson of lessons) {
      for (const block of lesson.blocks.filter((b) => !b.skip)) {
        for (const c of block.commands) {
          if (c.expect) checked++;
          const syntax = Bun.spawnSync(["bash", "-n", "-c", c.text], { stderr: "pipe" });
          if (syntax.exitCode !== 0) problems.push(`${lesson.path}:${c.line}: not a complete command: ${syntax.stderr.toString().trim()}`);
          if (/<[a-z][a-z ]*>/.test(c.text.split("#")[0]!)) problems.push(`${lesson.path}:${c.line}: a placeholder the runner cannot fill: ${c.text}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(80);
  });

  test("the README links the guide", () => {
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain("](docs/README.md)");
  });

  test("every route a lesson calls exists in the app (method and path)", () => {
    const uses = docs.flatMap(routeUses);
    expect(uses.length).toBeGreaterThan(50);
    expect(checkRoutes(docs, routes)).toEqual([]);
  });

  test("every task named is in Taskfile.yml", () => {
    expect(docs.flatMap(taskUses).length).toBeGreaterThan(15);
    expect(checkTasks(docs, tasks)).toEqual([]);
  });

  test("every repo path named in code resolves", () => {
    expect(checkPaths(docs, ROOT)).toEqual([]);
  });

  test("every relative link resolves (with its #anchor)", () => {
    expect(docs.flatMap((d) => d.links).length).toBeGreaterThan(30);
    expect(checkLinks(docs, ROOT)).toEqual([]);
  });

  test(`every manifest excerpt equals the file it quotes (else ${FIX})`, () => {
    const excerpts = docs.flatMap((d) => d.fences.filter((f) => f.marker?.startsWith("excerpt")));
    expect(excerpts.length).toBeGreaterThanOrEqual(15);
    const problems = checkAllExcerpts(docs, ROOT);
    if (problems.length) throw new Error(`${problems.join("\n")}\n\n${FIX}`);
  });

  test("every lesson works on its own: a Start from line, $POD set before use, no background job or watch left running", () => {
    expect(checkLessonsStandalone(docs)).toEqual([]);
  });

  test("every yaml block that quotes kustomize/ is an excerpt, not a hand copy", () => {
    for (const doc of docs) {
      for (const f of doc.fences) {
        if (f.lang === "yaml" && !f.marker?.startsWith("excerpt")) {
          throw new Error(`${doc.path}:${f.line}: a yaml block without an <!-- excerpt: ... --> marker`);
        }
      }
    }
  });
});

// ---- the checks fail when they should ---------------------------------------------------------

const md = (text: string, path = "docs/99-fixture.md") => parseDoc(path, text);

describe("the checks catch broken docs", () => {
  test("curl parsing: method from -X/--request, -d implies POST, path without the query", () => {
    expect(parseCurl(shellWords("-s 'http://127.0.0.1:8080/stress?seconds=5'"))).toMatchObject({ method: "GET", path: "/stress", pathAndQuery: "/stress?seconds=5" });
    expect(parseCurl(shellWords("-s -X POST localhost:8000/ready/disable"))).toMatchObject({ method: "POST", path: "/ready/disable" });
    expect(parseCurl(shellWords("--request DELETE http://localhost/kv/a"))).toMatchObject({ method: "DELETE", path: "/kv/a" });
    expect(parseCurl(shellWords(`-s -c /tmp/jar -H 'content-type: application/json' -d '{"a":1}' http://127.0.0.1:8080/login`))).toMatchObject({
      method: "POST", path: "/login", body: '{"a":1}', writeJar: "/tmp/jar", headers: { "content-type": "application/json" },
    });
    const steps = curlSteps(md("```sh\nfor i in $(seq 3); do curl -s http://127.0.0.1:8080/visits; echo; done\ncurl -si http://127.0.0.1:8080/ready   # expect 503 {\"status\":\"not ready\"}\n```\n"));
    expect(steps.map((s) => [s.method, s.path, s.line])).toEqual([["GET", "/visits", 2], ["GET", "/ready", 3]]);
    expect(steps[1]!.expect).toEqual({ status: 503, json: { status: "not ready" } });
  });

  test("routes: an unknown path, a wrong method, and a prose URL all fail; templates match", () => {
    expect(routeMatches({ method: "GET", path: "/kv/:key" }, "GET", "/kv/color")).toBe(true);
    expect(routeMatches({ method: "GET", path: "/kv/:key" }, "GET", "/kv/")).toBe(false);
    const good = md("```sh\ncurl -s http://127.0.0.1:8080/kv/color\ncurl -X POST localhost:8000/ready/disable\n```\nSee `POST /crash` and http://localhost/visits.\n");
    expect(checkRoutes([good], routes)).toEqual([]);
    const bad = md("```sh\ncurl -s http://127.0.0.1:8080/nope\ncurl -s http://127.0.0.1:8080/crash\ncurl -d x http://127.0.0.1:8080/visits\n```\nThen `POST /health/toggle` and `http://127.0.0.1:8080/readyz`.\n");
    const problems = checkRoutes([bad], routes);
    expect(problems).toHaveLength(5);
    expect(problems[1]).toContain("GET /crash is not a route of the app (it answers POST)");
    expect(problems[2]).toContain("POST /visits");
  });

  test("routes: external hosts are not checked", () => {
    expect(checkRoutes([md("```sh\ncurl -fsSL https://bun.sh/install\n```\n")], routes)).toEqual([]);
  });

  test("tasks: an unknown task fails, in code blocks, comments and inline code", () => {
    expect(checkTasks([md("```sh\ntask up && task status   # then: task rollback\n```\nRun `task hpa-status -- --watch`.\n")], tasks)).toEqual([]);
    const problems = checkTasks([md("```sh\ntask upp\nBASE_URL=x task test-e2e2\n```\nRun `task nope`.\n")], tasks);
    expect(problems.map((p) => p.split(": ")[1])).toEqual(["task upp is not in Taskfile.yml", "task test-e2e2 is not in Taskfile.yml", "task nope is not in Taskfile.yml"]);
  });

  test("paths and links: a missing file, a missing directory and a missing #anchor fail", () => {
    const good = md("`kustomize/base/hpa.yaml`, `src/modules/probes/index.ts`, `kustomize/overlays/<name>`\n[a](01-desired-state.md) [b](../README.md#quick-start) [c](../kustomize/base/)\n");
    expect(checkPaths([good], ROOT)).toEqual([]);
    expect(checkLinks([good], ROOT)).toEqual([]);
    const bad = md("`kustomize/base/hpa.yml` and\n```sh\nkubectl apply -k kustomize/overlays/kin\n```\n[a](01-nope.md) [b](../README.md#no-such-heading) [c](../../outside.md)\n");
    expect(checkPaths([bad], ROOT)).toHaveLength(2);
    const links = checkLinks([bad], ROOT);
    expect(links).toHaveLength(3);
    expect(links[1]).toContain("has no heading #no-such-heading");
  });

  test("standalone lessons: a missing Start from line, $POD used unset, an unstopped job and a watch fail", () => {
    const good = md("# 99. X\n\n**Start from:** the stack.\n\n## What to run\n\n```sh\nPOD=$(kubectl get pod -o name)\nkubectl port-forward pod/$POD 8001:8000 & sleep 1\ncurl -s http://127.0.0.1:8001/ 2>&1\nkill %1\n```\n");
    expect(checkLessonsStandalone([good])).toEqual([]);
    const bad = md("# 99. X\n\n## What to run\n\n```sh\nkubectl logs $POD\nkubectl port-forward pod/x 8001:8000 &\nkubectl get pods -w\ntask hpa-status -- --watch\n```\nThen `POD=$(kubectl get pod -o name)`.\n");
    const problems = checkLessonsStandalone([bad]);
    expect(problems).toHaveLength(5);
    expect(problems[0]).toContain("Start from");
    expect(problems[1]).toContain("uses $POD before");
    expect(problems[2]).toContain("background job");
    expect(problems.filter((p) => p.includes("a watch")).length).toBe(2);
  });

  test("heading anchors follow GitHub's rules", () => {
    expect([...headingAnchors("# Kubernetes walkthrough (kind and the Taskfile)\n## `GET /dns?name=…`\n## Up\n## Up\n")]).toEqual([
      "kubernetes-walkthrough-kind-and-the-taskfile", "get-dnsname", "up", "up-1",
    ]);
  });

  test("excerpts: a drifted line, a missing anchor, a non-unique anchor, a range past the end and a stray marker fail", () => {
    const ok = md('<!-- excerpt: kustomize/base/hpa.yaml "minReplicas:" 2 -->\n```yaml\nminReplicas: 2\nmaxReplicas: 10\n```\n');
    expect(checkAllExcerpts([ok], ROOT)).toEqual([]);
    const bad = md([
      '<!-- excerpt: kustomize/base/hpa.yaml "minReplicas:" 2 -->', "```yaml", "minReplicas: 3", "maxReplicas: 10", "```",
      '<!-- excerpt: kustomize/base/hpa.yaml "minReplicaz:" 2 -->', "```yaml", "x", "```",
      '<!-- excerpt: kustomize/base/hpa.yaml "name:" 1 -->', "```yaml", "x", "```",
      "<!-- excerpt: kustomize/base/pdb.yaml#L10-L99 -->", "```yaml", "x", "```",
      "<!-- excerpt: kustomize/base/pdb.yaml#L1-L2 -->", "not a fence",
    ].join("\n"));
    const problems = checkAllExcerpts([bad], ROOT);
    expect(problems).toHaveLength(5);
    expect(problems.join("\n")).toContain('line 1 of the block is "minReplicas: 3", the file has "minReplicas: 2"');
    expect(problems.join("\n")).toContain("has no line containing");
    expect(problems.join("\n")).toContain("make the anchor unique");
    expect(problems.join("\n")).toContain("has only 17 lines");
    expect(problems.join("\n")).toContain("not directly followed by a fenced block");
  });

  test("scripts/docs-excerpts.ts reports drift (exit 1) and --write refreshes it", () => {
    const dir = mkdtempSync(join(tmpdir(), "bun-k8s-docs-"));
    try {
      mkdirSync(join(dir, "docs"));
      mkdirSync(join(dir, "kustomize/base"), { recursive: true });
      cpSync(join(ROOT, "kustomize/base/deployment.yaml"), join(dir, "kustomize/base/deployment.yaml"));
      const page = ["# x", "", '<!-- excerpt: kustomize/base/deployment.yaml "readinessProbe:" 3 -->', "```yaml", "readinessProbe:", "  stale", "```", ""].join("\n");
      writeFileSync(join(dir, "docs/x.md"), page);
      const lines: string[] = [];
      expect(excerptsScript([], dir, (l) => lines.push(l))).toBe(1);
      expect(lines.join("\n")).toContain("1 excerpts, 1 drifted, 0 broken");
      expect(excerptsScript(["--write"], dir, () => {})).toBe(0);
      const fixed = readFileSync(join(dir, "docs/x.md"), "utf8");
      expect(fixed).toContain("readinessProbe:\n  httpGet:\n    path: /ready\n```");
      expect(excerptsScript([], dir, () => {})).toBe(0);
      expect(excerptsScript(["--bogus"], dir, () => {})).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the e2e docs steps (scripts/lib/e2e/docs-steps.ts)", () => {
  test("pass when the page is right, fail on a wrong status or field, skip marked blocks and POST /crash", async () => {
    const { app: local } = testApp();
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => local.handle(req) });
    const ctx: Context = {
      baseUrl: `http://127.0.0.1:${server.port}/`, kube: null, kubeReason: "test", expectServers: 1, singleProcess: true,
      username: "admin", password: "admin", verbose: false, log: () => {},
    };
    const page = (body: string) => md(`# t\n\n\`\`\`sh\n${body}\n\`\`\`\n`);
    try {
      const good = docsStepChecks([
        page([
          "curl -s -X POST http://127.0.0.1:8080/ready/disable   # expect 200 {\"status\":\"not ready\"}",
          "curl -si http://127.0.0.1:8080/ready                  # expect 503",
          "curl -s -X POST http://127.0.0.1:8080/crash",
          "curl -s -c /tmp/jar -H 'content-type: application/json' -d '{\"username\":\"admin\",\"password\":\"admin\"}' http://127.0.0.1:8080/login",
          "curl -s -b /tmp/jar http://127.0.0.1:8080/me          # expect 200 {\"username\":\"admin\"}",
        ].join("\n")),
      ]);
      expect(await good[0]!.run(ctx)).toBe("4 step(s) ran, 1 not run here (e2e: skip or POST /crash)");
      // The check re-enabled readiness afterwards.
      expect((await fetch(`${ctx.baseUrl}ready`)).status).toBe(200);

      const wrongStatus = docsStepChecks([page("curl -si http://127.0.0.1:8080/ready   # expect 503")]);
      await expect(wrongStatus[0]!.run(ctx)).rejects.toThrow("expected HTTP 503, got 200");
      const wrongField = docsStepChecks([page("curl -s http://127.0.0.1:8080/health   # expect 200 {\"status\":\"ok\"}")]);
      await expect(wrongField[0]!.run(ctx)).rejects.toThrow('expected the reply to contain {"status":"ok"}');
      const notFound = docsStepChecks([page("curl -s http://127.0.0.1:8080/kv/never-written")]);
      await expect(notFound[0]!.run(ctx)).rejects.toThrow("expected a 2xx or 3xx, got 404");
      const noCookie = docsStepChecks([page("curl -s -b /tmp/other http://127.0.0.1:8080/me")]);
      await expect(noCookie[0]!.run(ctx)).rejects.toThrow("got 401");
      const marked = docsStepChecks([md("<!-- e2e: skip (needs a cluster) -->\n```sh\ncurl -s 'http://127.0.0.1:8080/dns?name=redis'\n```\n")]);
      await expect(marked[0]!.run(ctx)).rejects.toThrow("marked e2e: skip");
      await expect(docsStepChecks([page("curl -s http://127.0.0.1:8080/")])[0]!.run({ ...ctx, singleProcess: false })).rejects.toThrow("only against a single local process");
    } finally {
      server.stop(true);
    }
  });
});
