// The layer-cache check reads buildah's build log; these tests pin the parsing and the claims on
// a log shaped like podman 4.3's, so a change in either shows up without a podman build.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { changePackageJson, changeSource, copyBuildContext, keyStep, layerClaims, layerTable, parseBuildSteps, SOURCE_FILE, type LayerBuild } from "../../scripts/lib/layer-cache";
import { ROOT } from "../../scripts/lib/repo";

const STEPS = [
  "FROM localhost/bun-k8s-base/bun-build:1.4.4 AS build",
  "WORKDIR /src",
  "COPY package.json bun.lock bunfig.toml ./",
  'RUN ["bun", "install", "--frozen-lockfile", "--production", "--ignore-scripts"]',
  "COPY tsconfig.json ./",
  "COPY scripts/build.ts ./scripts/build.ts",
  "COPY scripts/lib/build.ts scripts/lib/repo.ts ./scripts/lib/",
  "COPY src ./src",
  "ARG REVISION=unknown",
  "ENV BUILD_REVISION=${REVISION}",
  'RUN ["bun", "run", "scripts/build.ts", "--outfile=/out/bun-k8s"]',
];

/** A build-stage log in buildah's format where the first `cached` steps after FROM came from the cache. */
function log(cached: number): string {
  const lines: string[] = [];
  STEPS.forEach((s, i) => {
    lines.push(`[1/2] STEP ${i + 1}/${STEPS.length}: ${s}`);
    if (i === 0) return;
    if (i <= cached) lines.push(`--> Using cache 0123456789abcdef${i}`, `--> 0123456789ab`);
    else {
      if (s.startsWith("RUN")) lines.push("bun install v1.4.4", "", "100 packages installed [1.2s]");
      lines.push("--> 0123456789ab");
    }
  });
  lines.push("[2/2] STEP 1/3: FROM localhost/bun-k8s-base/distroless-base:local AS runtime", "[2/2] STEP 2/3: USER 65532:65532", "--> Using cache 42", "[2/2] COMMIT x", "--> 42");
  return lines.join("\n");
}

const build = (name: string, cached: number): LayerBuild => ({ name, change: "x", seconds: 1, loadBefore: 0, steps: parseBuildSteps(log(cached)) });

describe("parseBuildSteps", () => {
  test("reads stage, step and instruction, and marks the steps with `Using cache`", () => {
    const steps = parseBuildSteps(log(3));
    expect(steps).toHaveLength(STEPS.length + 2);
    expect(steps[0]).toEqual({ stage: 1, step: 1, instruction: STEPS[0]!, result: "base" });
    expect(steps.slice(1, 4).map((s) => s.result)).toEqual(["cache", "cache", "cache"]);
    expect(steps.slice(4, STEPS.length).every((s) => s.result === "ran")).toBe(true);
    expect(steps.at(-1)).toEqual({ stage: 2, step: 2, instruction: "USER 65532:65532", result: "cache" });
    expect(keyStep(steps, "install")?.result).toBe("cache");
    expect(keyStep(steps, "compile")?.step).toBe(11);
  });

  test("a single-stage log has no [n/m] prefix", () => {
    expect(parseBuildSteps("STEP 1/2: FROM x\nSTEP 2/2: RUN true\n--> Using cache 1\n")).toEqual([
      { stage: 1, step: 1, instruction: "FROM x", result: "base" },
      { stage: 1, step: 2, instruction: "RUN true", result: "cache" },
    ]);
  });
});

describe("layerClaims", () => {
  test("hold for the Dockerfile's order: a src/ change reuses bun install, a package.json change does not", () => {
    const claims = layerClaims({ cold: build("a", 0), afterSource: build("b", 6), afterPackageJson: build("c", 1) });
    expect(claims.filter((c) => !c.ok)).toEqual([]);
    expect(claims).toHaveLength(7);
  });

  test("fail when src/ were copied before the dependencies (nothing reused) or when package.json hit the cache", () => {
    const claims = layerClaims({ afterSource: build("b", 1), afterPackageJson: build("c", 7) });
    expect(claims.filter((c) => !c.ok).map((c) => c.what)).toEqual([
      "b: after a change in src/ the manifests' COPY is reused",
      "b: after a change in src/ the dependency layer is reused",
      "c: after a change in package.json its COPY runs again",
      "c: after a change in package.json the dependency layer is rebuilt",
    ]);
  });

  test("a change outside the context must take every step from the cache", () => {
    const all = (name: string) => ({ ...build(name, 10), steps: build(name, 10).steps.map((st) => ({ ...st, result: st.result === "ran" ? ("cache" as const) : st.result })) });
    const ok = layerClaims({ afterSource: build("b", 6), afterPackageJson: build("c", 1), afterIgnored: all("d") });
    expect(ok.at(-1)).toMatchObject({ ok: true, detail: "all from cache" });
    const bad = layerClaims({ afterSource: build("b", 6), afterPackageJson: build("c", 1), afterIgnored: build("d", 9) });
    expect(bad.at(-1)).toMatchObject({ ok: false, detail: "ran: [1] 11" });
  });

  test("a step missing from the log is a failure, not a pass", () => {
    const noInstall = { ...build("b", 6), steps: build("b", 6).steps.filter((s) => !s.instruction.includes("install")) };
    expect(layerClaims({ afterSource: noInstall, afterPackageJson: build("c", 1) }).find((c) => !c.ok)?.detail).toBe("RUN bun install: missing");
  });

  test("the table shows seconds, the cached share and bun install", () => {
    const table = layerTable([build("a cold", 0), build("b src", 6)]);
    expect(table).toContain("1/11");
    expect(table).toMatch(/b src .* 7\/11 +reused/);
  });
});

describe("the context copy", () => {
  const dir = copyBuildContext();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("holds the build context, not node_modules or .git, with the files' mtimes", () => {
    for (const f of ["Dockerfile", ".dockerignore", "package.json", "bun.lock", SOURCE_FILE]) expect(existsSync(join(dir, f)), f).toBe(true);
    expect(existsSync(join(dir, "node_modules"))).toBe(false);
    expect(existsSync(join(dir, ".git"))).toBe(false);
    const mtime = (root: string) => Bun.file(join(root, "bun.lock")).lastModified;
    expect(mtime(dir)).toBe(mtime(ROOT));
  });

  test("the changes edit the copy only, and bun.lock stays as it is", () => {
    const before = readFileSync(join(ROOT, SOURCE_FILE), "utf8");
    changeSource(dir);
    changePackageJson(dir);
    expect(readFileSync(join(ROOT, SOURCE_FILE), "utf8")).toBe(before);
    expect(readFileSync(join(dir, SOURCE_FILE), "utf8")).toStartWith(before);
    expect(readFileSync(join(dir, SOURCE_FILE), "utf8")).not.toBe(before);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const original = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(pkg.description).not.toBe(original.description);
    expect({ ...pkg, description: original.description }).toEqual(original);
    expect(readFileSync(join(dir, "bun.lock"), "utf8")).toBe(readFileSync(join(ROOT, "bun.lock"), "utf8"));
  });
});
