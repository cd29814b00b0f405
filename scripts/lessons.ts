#!/usr/bin/env bun
// `bun run test:lessons`: every lesson of the guide (docs/NN-*.md), run as written on the local
// cluster, each command's `# expect` checked (scripts/lib/lessons.ts), each lesson from the stack
// as `task deploy` leaves it, and failed when it leaves something behind.
//
//   bun run test:lessons                 every lesson (the local cluster must be up: cluster:up)
//   bun run test:lessons --only 07,10    some of them
//   bun run test:lessons --list          what would run, and every block that does not, with why
//
// The lessons are written for kind (context kind-bun-k8s, the app on http://127.0.0.1:8080). Here
// they get a kubeconfig of their own whose only context is the local cluster's, and a relay from
// 127.0.0.1:8080 to its NodePort 30080, which is what kind's port mapping does. The output of each
// lesson is in .artifacts/lessons/NN.log. Without a cluster it skips with the reason (CI=true: fails).
//
// Lessons edit files and undo the edits with git. They run in a copy of this checkout (its files
// as they are now, committed in a repository of its own, node_modules linked), so the runner's
// clean-up after a lesson can never undo an edit you are making here meanwhile.
import { appendFileSync, cpSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { kindSettings, ROOT } from "./lib/cluster-settings";
import { Kube } from "./lib/kube";
import { lessonPassed, relay, runLesson, type LessonReport } from "./lib/lesson-runner";
import { leftovers, resetStack, snapshot } from "./lib/lesson-stack";
import { loadLessons } from "./lib/lessons";
import { CONTEXT } from "./lib/local-cluster";

const CI = process.env.CI === "true";
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : (args[i + 1] ?? "");
};
const only = flag("--only")?.split(",").map((s) => s.trim().padStart(2, "0"));
const lessons = loadLessons().filter((l) => !only || only.includes(l.number));

if (args.includes("--list")) {
  for (const l of lessons) {
    const run = l.blocks.filter((b) => !b.skip);
    const commands = run.reduce((n, b) => n + b.commands.length, 0);
    const checked = run.reduce((n, b) => n + b.commands.filter((c) => c.expect).length, 0);
    console.log(`${l.number} ${l.title}: ${run.length} block(s), ${commands} command(s), ${checked} with an expectation`);
    for (const b of l.blocks.filter((b) => b.skip)) console.log(`   not run: ${l.path}:${b.line} (${b.skip})`);
  }
  process.exit(0);
}

const OUT = join(ROOT, ".artifacts", "lessons");
const KUBECONFIG = join(OUT, "kubeconfig");
const TREE = join(OUT, "tree");
const kindUrl = kindSettings().url ?? "http://127.0.0.1:8080";
const LOCAL_NODE_PORT = kindSettings().nodePort ?? 30080;

/** This checkout's files (tracked and untracked, not ignored) and its last image build, in TREE. */
function copyTree() {
  const list = Bun.spawnSync(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, stdout: "pipe" });
  const files = list.stdout.toString().split("\0").filter((f) => f && existsSync(join(ROOT, f)));
  for (const f of files) {
    mkdirSync(dirname(join(TREE, f)), { recursive: true });
    cpSync(join(ROOT, f), join(TREE, f), { verbatimSymlinks: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(TREE, "node_modules"));
  if (existsSync(join(ROOT, ".artifacts", "image"))) cpSync(join(ROOT, ".artifacts", "image"), join(TREE, ".artifacts", "image"), { recursive: true });
  const git = (...a: string[]) => Bun.spawnSync(["git", "-c", "user.name=test:lessons", "-c", "user.email=lessons@localhost", ...a], { cwd: TREE, stdout: "ignore", stderr: "pipe" });
  for (const argv of [["init", "-q"], ["add", "-A"], ["commit", "-qm", "the checkout the lessons run in"]]) {
    const r = git(...argv);
    if (r.exitCode !== 0) throw new Error(`git ${argv.join(" ")} in ${TREE}: ${r.stderr.toString().trim()}`);
  }
  return files.length;
}

function fail(reason: string): never {
  if (CI) {
    console.error(`test:lessons FAILED: CI=true but ${reason}`);
    process.exit(1);
  }
  console.log(`test:lessons skipped: ${reason}`);
  process.exit(0);
}

const view = Bun.spawnSync(["kubectl", "config", "view", "--raw", "--minify", "--context", CONTEXT], { stdout: "pipe", stderr: "pipe" });
if (view.exitCode !== 0) fail(`no kube context ${CONTEXT} (start the local cluster: bun run cluster:up): ${view.stderr.toString().trim()}`);
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
writeFileSync(KUBECONFIG, view.stdout, { mode: 0o600 });
const copied = copyTree();

const env: Record<string, string | undefined> = {
  ...process.env,
  KUBECONFIG,
  KUBE_CONTEXT: undefined,
  KUBE_NAMESPACE: undefined,
  BASE_URL: undefined,
  CLUSTER_URL: undefined,
  NO_COLOR: "1",
  PATH: `${process.env.PATH}:/usr/local/go/bin:${process.env.HOME ?? "/root"}/go/bin`,
};
const kube = new Kube({ env });
const unreachable = await kube.unreachableReason();
if (unreachable) fail(unreachable);

const port = Number(new URL(kindUrl).port);
let listener: ReturnType<typeof relay>;
try {
  listener = relay(port, LOCAL_NODE_PORT);
} catch (err) {
  fail(`cannot listen on 127.0.0.1:${port} for the relay to NodePort ${LOCAL_NODE_PORT}: ${err instanceof Error ? err.message : err}`);
}

async function deploy(log: string) {
  const proc = Bun.spawn([process.execPath, "run", "scripts/k8s.ts", "deploy", "kind", "--skip-build"], { cwd: TREE, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  appendFileSync(log, out + err);
  if (code !== 0) throw new Error(`task deploy (k8s.ts deploy kind --skip-build) failed, exit ${code}: ${(err || out).trim().split("\n").slice(-5).join("\n")}`);
}

const t0 = performance.now();
const setupLog = join(OUT, "reset.log");
const say = (line: string) => appendFileSync(setupLog, `${line}\n`);
console.log(`test:lessons: ${lessons.length} lesson(s) on context ${CONTEXT}, ${kindUrl} relayed to NodePort ${LOCAL_NODE_PORT}, in a copy of this checkout (${copied} files); logs in .artifacts/lessons/`);
// The reset checks the NodePort itself: the relay is for the lessons' own commands.
const reset = (log: (line: string) => void, file: string) =>
  resetStack(kube, start, { tree: TREE, appUrl: `http://127.0.0.1:${LOCAL_NODE_PORT}`, deploy: () => deploy(file), log });
// The state every lesson starts from: the files of the copy and the stack deployed from them.
let start = await snapshot(kube, TREE);
await reset(say, setupLog);
start = await snapshot(kube, TREE);

const reports: LessonReport[] = [];
for (const lesson of lessons) {
  const log = join(OUT, `${lesson.number}.log`);
  const write = (line: string) => appendFileSync(log, `${line}\n`);
  write(`# ${lesson.path}: ${lesson.title}`);
  const report = await runLesson(lesson, { env, cwd: TREE, outDir: join(OUT, lesson.number), log: write });
  try {
    report.mess.push(...leftovers(start, await snapshot(kube, TREE)));
    write(`-- reset (${report.mess.length ? `left behind: ${report.mess.join("; ")}` : "nothing left behind"})`);
    await reset(write, log);
  } catch (err) {
    report.error ??= `reset after the lesson: ${err instanceof Error ? err.message : String(err)}`;
  }
  reports.push(report);
  const ran = report.results.length;
  const notRun = report.skipped.length ? `, ${report.skipped.length} block(s) not run` : "";
  if (lessonPassed(report)) {
    console.log(`ok   ${lesson.number} ${lesson.title}: ${ran} command(s), ${report.results.filter((r) => r.command.expect).length} checked${notRun} (${report.seconds.toFixed(1)} s)`);
    continue;
  }
  console.log(`FAIL ${lesson.number} ${lesson.title} (${report.seconds.toFixed(1)} s; log: .artifacts/lessons/${lesson.number}.log)`);
  const failed = report.results.find((r) => r.problems.length);
  if (failed) {
    console.log(`     ${lesson.path}:${failed.command.line}: ${failed.command.text}`);
    console.log(`     ${failed.problems.join("; ")}`);
    console.log(failed.output.trimEnd().split("\n").slice(-12).map((l) => `     | ${l}`).join("\n"));
  }
  if (report.error) console.log(`     error: ${report.error.split("\n").slice(0, 12).join("\n     ")}`);
  for (const m of report.mess) console.log(`     left behind: ${m}`);
  // The next lesson needs a working stack: stop when it could not be put back.
  if (report.error?.startsWith("reset")) break;
}

listener.stop(true);
const failed = reports.filter((r) => !lessonPassed(r));
const seconds = ((performance.now() - t0) / 1000).toFixed(0);
console.log(
  failed.length
    ? `\ntest:lessons FAILED: ${failed.map((r) => r.lesson.number).join(", ")} of ${reports.length} (${seconds} s)`
    : `\ntest:lessons passed: ${reports.length} lesson(s), ${reports.reduce((n, r) => n + r.results.length, 0)} command(s) in ${seconds} s`,
);
process.exit(failed.length || reports.length < lessons.length ? 1 : 0);
