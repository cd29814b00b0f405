#!/usr/bin/env bun
// `bun run image:layers`: the figures of docs/23-image-layer-caching.md. Builds the Dockerfile
// four times with podman in a temporary copy of the build context and times each build:
//   a. cold: a new, empty podman storage, so no layer of this Dockerfile exists; only the two
//      local base images are imported first (not part of the time), and `bun install` in the
//      build stage starts with an empty cache and downloads every package
//   b. after appending a comment to src/main.ts
//   c. after changing the description in package.json (bun.lock stays valid)
//   d. after changing docs/README.md, which .dockerignore keeps out of the context
// For each build: the seconds and which steps buildah served from its cache ("Using cache").
// Prints a table and writes .artifacts/layer-cache.json. The repository's files are never edited;
// the copy and the podman storage are removed afterwards.
//
// Needs podman and runc as root on a Debian host (the same as `bun run test:image`); without them
// it says why and exits 0, or 1 with CI=true. `--quiet` hides the build output.
import { cpus, loadavg } from "node:os";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { changeIgnoredFile, changePackageJson, changeSource, copyBuildContext, layerBuild, layerClaims, layerTable, stepSummary, type LayerBuild } from "./lib/layer-cache";
import { importBaseImages, podmanUnavailable, removeStorage, tempStorage } from "./lib/podman";
import { gitRevision, ROOT } from "./lib/repo";

const CI = process.env.CI === "true";
const echo = !process.argv.includes("--quiet");
const OUT = join(ROOT, ".artifacts", "layer-cache.json");

const unavailable = podmanUnavailable();
if (unavailable) {
  console.log(`image:layers ${CI ? "FAILED" : "skipped"}: ${unavailable}`);
  process.exit(CI ? 1 : 0);
}

const driver = process.env.LAYER_CACHE_DRIVER === "vfs" ? "vfs" : "overlay";
const storage = tempStorage(driver);
const context = copyBuildContext();
const builds: LayerBuild[] = [];
let failed = false;
try {
  const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { version: string };
  const args = { version: pkg.version, revision: gitRevision(), source: "local" };
  const t0 = performance.now();
  const bases = await importBaseImages(storage);
  const importSeconds = Math.round(performance.now() - t0) / 1000;
  const run = async (name: string, change: string) => {
    console.log(`\n=== build ${name}: ${change}`);
    const b = await layerBuild(storage, { name, change, context, tag: `localhost/bun-k8s-layers:${name[0]}`, bases, args, echo });
    builds.push(b);
    return b;
  };
  const cold = await run("a cold", "none (new podman storage)");
  const afterSource = await run("b src", changeSource(context));
  const afterPackageJson = await run("c package.json", changePackageJson(context));
  const afterIgnored = await run("d docs", changeIgnoredFile(context));

  const claims = layerClaims({ cold, afterSource, afterPackageJson, afterIgnored });
  console.log("\nsteps per build (build stage [1], runtime stage [2]):");
  for (const b of builds) console.log(`\n${b.name} (${b.seconds} s):\n${stepSummary(b)}`);
  console.log(`\n${layerTable(builds)}\n`);
  for (const c of claims) console.log(`${c.ok ? "ok  " : "FAIL"} ${c.what}: ${c.detail}`);
  failed = claims.some((c) => !c.ok);

  const podmanVersion = Bun.spawnSync(["podman", "--version"], { stdout: "pipe" }).stdout.toString().trim();
  mkdirSync(join(ROOT, ".artifacts"), { recursive: true });
  writeFileSync(
    OUT,
    JSON.stringify(
      {
        when: new Date().toISOString(),
        machine: { cores: cpus().length, cpu: cpus()[0]?.model, loadavg: loadavg(), podman: podmanVersion, storageDriver: driver, bun: Bun.version },
        cold: "a new, empty podman storage: no layer of this Dockerfile cached; the two local base images imported beforehand; bun install starts with an empty package cache",
        baseImportSeconds: importSeconds,
        builds,
        claims,
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`\nwrote ${OUT.slice(ROOT.length + 1)}`);
} catch (err) {
  console.error(`image:layers FAILED: ${err instanceof Error ? err.message : err}`);
  failed = true;
} finally {
  removeStorage(storage);
  rmSync(context, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
