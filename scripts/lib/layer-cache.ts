// Docker/podman layer caching, measured on the project's own Dockerfile (lesson 23): a build in
// a temporary copy of the build context after a change in src/ and after a change in
// package.json, with the steps that came from the cache parsed out of buildah's output.
// Used by scripts/layer-cache.ts (the figures of the lesson) and scripts/test-image.ts (the
// claims, checked in CI). The repository's own files are never edited.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { podmanBuild, type BaseImages } from "./podman";
import { ROOT } from "./repo";

/** One instruction of a `podman build`, as buildah reports it. */
export interface BuildStep {
  /** 1-based stage number ([1/2] is the build stage, [2/2] the runtime stage). */
  stage: number;
  step: number;
  instruction: string;
  /** "cache": buildah printed `--> Using cache`; "ran": it executed; "base": a FROM. */
  result: "cache" | "ran" | "base";
}

/**
 * The steps of a buildah/podman build log: `[1/2] STEP 3/11: COPY ...` (or `STEP 3/11: ...` for a
 * single stage) starts a step; a `--> Using cache <id>` before the next step means it was reused.
 */
export function parseBuildSteps(log: string): BuildStep[] {
  const steps: BuildStep[] = [];
  for (const line of log.split("\n")) {
    const m = /^(?:\[(\d+)\/\d+\] )?STEP (\d+)\/\d+: (.+)$/.exec(line.trimEnd());
    if (m) {
      const instruction = m[3]!;
      steps.push({ stage: Number(m[1] ?? 1), step: Number(m[2]), instruction, result: /^FROM\s/i.test(instruction) ? "base" : "ran" });
    } else if (/^--> Using cache\b/.test(line) && steps.length) {
      steps[steps.length - 1]!.result = "cache";
    }
  }
  return steps;
}

/** The steps the lesson's claims are about, found by their instruction in the Dockerfile. */
export const KEY_STEPS = {
  manifests: { label: "COPY package.json bun.lock bunfig.toml", match: /^COPY\b.*\bpackage\.json\b/ },
  install: { label: "RUN bun install", match: /^RUN\b.*\bbun\b.*\binstall\b/ },
  sources: { label: "COPY src", match: /^COPY\b.*\bsrc\b/ },
  compile: { label: "RUN bun run scripts/build.ts", match: /^RUN\b.*scripts\/build\.ts/ },
} as const;
export type KeyStep = keyof typeof KEY_STEPS;

export function keyStep(steps: BuildStep[], key: KeyStep): BuildStep | undefined {
  return steps.find((s) => KEY_STEPS[key].match.test(s.instruction));
}

export interface LayerBuild {
  name: string;
  /** What was changed in the context before this build. */
  change: string;
  seconds: number;
  /** The 1-minute load average when the build started (the machine may be shared). */
  loadBefore: number;
  steps: BuildStep[];
}

/** A temp dir with the working tree's files (tracked and untracked, minus .gitignored), mtimes kept. */
export function copyBuildContext(root: string = ROOT): string {
  const ls = Bun.spawnSync(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (ls.exitCode !== 0) throw new Error(`git ls-files failed in ${root}: ${ls.stderr.toString().trim()} (the context copy needs a git checkout)`);
  const dir = mkdtempSync(join(tmpdir(), "bun-k8s-context-"));
  for (const rel of new Set(ls.stdout.toString().split("\0").filter(Boolean))) {
    const from = join(root, rel);
    if (!existsSync(from)) continue; // deleted in the working tree
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    cpSync(from, join(dir, rel), { preserveTimestamps: true });
  }
  return dir;
}

export const SOURCE_FILE = "src/main.ts";

/** Appends a comment to src/main.ts in the copy: a code change that leaves the dependencies alone. */
export function changeSource(context: string): string {
  const file = join(context, SOURCE_FILE);
  writeFileSync(file, readFileSync(file, "utf8") + "// changed by the layer-cache check (scripts/lib/layer-cache.ts)\n");
  return `appended a comment to ${SOURCE_FILE}`;
}

/**
 * Changes package.json's description in the copy. bun.lock records the dependencies, not the
 * description, so it stays valid and `bun install --frozen-lockfile` still passes.
 */
export function changePackageJson(context: string): string {
  const file = join(context, "package.json");
  const pkg = JSON.parse(readFileSync(file, "utf8")) as { description?: string };
  pkg.description = `${pkg.description ?? ""} (changed by the layer-cache check)`;
  writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
  return "changed the description in package.json";
}

export const IGNORED_FILE = "docs/README.md";

/** Appends a line to docs/README.md in the copy: a file .dockerignore keeps out of the context. */
export function changeIgnoredFile(context: string): string {
  const file = join(context, IGNORED_FILE);
  writeFileSync(file, readFileSync(file, "utf8") + "\nchanged by the layer-cache check\n");
  return `appended a line to ${IGNORED_FILE} (not in the context)`;
}

/** One timed `podman build` (with layers) of the context, parsed into steps. */
export async function layerBuild(
  storage: string,
  o: { name: string; change: string; context: string; tag: string; bases: BaseImages; args: { version: string; revision: string; source: string }; target?: string; echo?: boolean },
): Promise<LayerBuild> {
  const loadBefore = loadavg()[0]!;
  const r = await podmanBuild(storage, { context: o.context, tag: o.tag, bases: o.bases, args: o.args, layers: true, target: o.target, echo: o.echo });
  return { name: o.name, change: o.change, seconds: Math.round(r.ms / 100) / 10, loadBefore: Math.round(loadBefore * 100) / 100, steps: parseBuildSteps(r.stdout) };
}

export interface Claim {
  ok: boolean;
  what: string;
  detail: string;
}

const resultOf = (b: LayerBuild, key: KeyStep) => keyStep(b.steps, key)?.result ?? "missing";

/**
 * The lesson's claims: a change in src/ reuses the dependency layer and re-runs the compile; a
 * change in package.json rebuilds the dependency layer. `cold`, when given, must have run
 * `bun install` itself (nothing cached yet); `afterIgnored`, a build after changing only a file
 * that .dockerignore excludes, must take every step from the cache.
 */
export function layerClaims(builds: { cold?: LayerBuild; afterSource: LayerBuild; afterPackageJson: LayerBuild; afterIgnored?: LayerBuild }): Claim[] {
  const claim = (b: LayerBuild, key: KeyStep, want: "cache" | "ran", what: string): Claim => {
    const got = resultOf(b, key);
    return { ok: got === want, what: `${b.name}: ${what}`, detail: `${KEY_STEPS[key].label}: ${got === "cache" ? "from cache" : got}` };
  };
  const claims: Claim[] = [];
  if (builds.cold) claims.push(claim(builds.cold, "install", "ran", "the first build runs bun install"));
  const s = builds.afterSource;
  claims.push(
    claim(s, "manifests", "cache", "after a change in src/ the manifests' COPY is reused"),
    claim(s, "install", "cache", "after a change in src/ the dependency layer is reused"),
    claim(s, "sources", "ran", "after a change in src/ the sources are copied again"),
    claim(s, "compile", "ran", "after a change in src/ the compile step runs again"),
  );
  const p = builds.afterPackageJson;
  claims.push(
    claim(p, "manifests", "ran", "after a change in package.json its COPY runs again"),
    claim(p, "install", "ran", "after a change in package.json the dependency layer is rebuilt"),
  );
  const i = builds.afterIgnored;
  if (i) {
    const ran = i.steps.filter((st) => st.result === "ran").map((st) => `[${st.stage}] ${st.step}`);
    claims.push({ ok: ran.length === 0 && i.steps.length > 0, what: `${i.name}: after a change outside the context every step is reused`, detail: ran.length ? `ran: ${ran.join(", ")}` : "all from cache" });
  }
  return claims;
}

/** The build stage's steps of a build as one line: `3 COPY ... cache, 4 RUN ... ran`. */
export function stepSummary(b: LayerBuild): string {
  return b.steps
    .filter((s) => s.result !== "base")
    .map((s) => `[${s.stage}] ${s.step} ${s.instruction.length > 48 ? s.instruction.slice(0, 47) + "…" : s.instruction}: ${s.result === "cache" ? "cache" : "ran"}`)
    .join("\n");
}

/** A small table: build, seconds, steps from the cache, and what happened to `bun install`. */
export function layerTable(builds: LayerBuild[]): string {
  const rows = builds.map((b) => {
    const total = b.steps.filter((s) => s.result !== "base").length;
    const cached = b.steps.filter((s) => s.result === "cache").length;
    const install = resultOf(b, "install");
    return [b.name, b.change, b.seconds.toFixed(1), `${cached}/${total}`, install === "cache" ? "reused" : install, String(b.loadBefore)];
  });
  const head = ["build", "change", "seconds", "steps cached", "bun install", "load avg"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
