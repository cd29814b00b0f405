#!/usr/bin/env bun
// `bun run test:image`: build the real Dockerfile with podman and run the container.
//
// The stock base images cannot be pulled here, so local equivalents are built from Debian's
// packages (scripts/lib/rootfs.ts) and passed with --build-arg:
//   BUN_IMAGE     a minimal Debian root filesystem with the pinned Bun from npm
//   RUNTIME_IMAGE the distroless base-debian12 package set with nonroot 65532 and no shell
// Checks: image config (user, port, entrypoint, HEALTHCHECK, OCI labels), no /bin/sh in the
// image, /health served by uid 65532, `podman healthcheck run` healthy, and `podman stop`
// within the grace period with exit code 0 and the in-flight request answered. Then layer caching
// (docs/23-image-layer-caching.md), in a temporary copy of the context: after a change in src/
// the dependency layer (`bun install`) comes from the cache and the compile step runs again;
// after a change in package.json the dependency layer is rebuilt (scripts/lib/layer-cache.ts).
//
// podman 4.3 facts on these machines (scripts/lib/podman.ts): --runtime runc (crun fails on the
// hybrid cgroup setup), explicit ulimits, the vfs storage driver, --format docker on build (OCI
// drops HEALTHCHECK), --network host for `bun install` in the build stage. All podman storage
// lives in a temp dir that is removed afterwards (vfs grows by gigabytes).
//
// Without podman (or root) it skips with a message, except with CI=true, where it fails.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { changePackageJson, changeSource, copyBuildContext, layerBuild, layerClaims, layerTable, type LayerBuild } from "./lib/layer-cache";
import { importBaseImages, podman as podmanIn, podmanBuild, podmanUnavailable, removeStorage, tempStorage, ULIMITS, type PodmanResult } from "./lib/podman";
import { gitRevision, ROOT } from "./lib/repo";
import { NONROOT_UID } from "./lib/rootfs";

const CI = process.env.CI === "true";
const KEEP = process.env.KEEP_IMAGE_STORAGE === "1"; // debugging: leave the podman storage behind
const IMAGE = "localhost/bun-k8s:test";
const CONTAINER = `bun-k8s-image-test-${process.pid}`;
const STOP_GRACE_SECONDS = 10; // podman's and docker's default stop timeout

const started = performance.now();
const figures: Record<string, string> = {};
const failures: string[] = [];

function skipOrFail(reason: string): never {
  if (CI) {
    console.error(`test:image FAILED: CI=true but the image test cannot run: ${reason}`);
    process.exit(1);
  }
  console.log(`test:image skipped: ${reason}`);
  process.exit(0);
}

function check(ok: boolean, what: string, detail = ""): void {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail ? `: ${detail}` : ""}`);
  if (!ok) failures.push(what);
}

const unavailable = podmanUnavailable();
if (unavailable) skipOrFail(unavailable);

const storage = tempStorage();
const podman = (args: string[], options: { allowFail?: boolean } = {}): Promise<PodmanResult> => podmanIn(storage, args, options);

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

async function waitHealthy(url: string, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    try {
      if ((await fetch(`${url}/health`)).status === 200) return performance.now() - t0;
    } catch {
      // not up yet
    }
    await Bun.sleep(10);
  }
  throw new Error(`${url}/health did not answer 200 within ${timeoutMs} ms`);
}

async function main(): Promise<void> {
  const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { version: string };
  const revision = gitRevision();
  const buildArgs = { version: pkg.version, revision, source: "local" };

  // 1. Local base images from Debian packages (root filesystems cached under .artifacts/image/).
  let t0 = performance.now();
  const bases = await importBaseImages(storage);
  figures["base images (rootfs + import)"] = `${Math.round(performance.now() - t0)} ms`;

  // 2. The real Dockerfile. --layers=false: with vfs every kept intermediate layer is a full
  // copy of the tree (the layer check in step 7 has a storage of its own).
  const build = await podmanBuild(storage, { context: ROOT, tag: IMAGE, bases, args: buildArgs, layers: false, echo: true });
  figures["podman build"] = `${build.ms} ms`;

  // 3. Image config.
  const [image] = JSON.parse((await podman(["image", "inspect", IMAGE])).stdout) as Array<{
    Size: number;
    Config: { User?: string; ExposedPorts?: Record<string, unknown>; Entrypoint?: string[]; Labels?: Record<string, string> };
  }>;
  if (!image) throw new Error("image inspect returned nothing");
  const cfg = image.Config;
  figures["image size"] = `${(image.Size / 1e6).toFixed(1)} MB (${image.Size} bytes)`;
  check(cfg.User === `${NONROOT_UID}:${NONROOT_UID}`, "USER 65532:65532", String(cfg.User));
  check(!!cfg.ExposedPorts && "8000/tcp" in cfg.ExposedPorts, "EXPOSE 8000", JSON.stringify(cfg.ExposedPorts));
  check(JSON.stringify(cfg.Entrypoint) === JSON.stringify(["/app/bun-k8s"]), "ENTRYPOINT the binary", JSON.stringify(cfg.Entrypoint));
  const labels = cfg.Labels ?? {};
  check(labels["org.opencontainers.image.version"] === pkg.version, "label version", labels["org.opencontainers.image.version"]);
  check(labels["org.opencontainers.image.revision"] === revision, "label revision", labels["org.opencontainers.image.revision"]);
  check("org.opencontainers.image.source" in labels, "label source", labels["org.opencontainers.image.source"]);

  // 4. Image content: no shell; the binary is root-owned and not writable by the service.
  const mount = (await podman(["image", "mount", IMAGE])).stdout.trim();
  const shells = ["bin/sh", "usr/bin/sh", "bin/bash", "bin/dash", "bin/busybox"].filter((s) => existsSync(join(mount, s)));
  check(shells.length === 0, "no shell in the image", shells.join(", ") || "none");
  const bin = Bun.spawnSync(["stat", "-c", "%u:%g %a %s", join(mount, "app/bun-k8s")], { stdout: "pipe" }).stdout.toString().trim();
  check(/^0:0 7[0-7]5 \d+$/.test(bin), "/app/bun-k8s owned by root, not writable by others", bin);
  figures["binary in image"] = `${(Number(bin.split(" ")[2]) / 1048576).toFixed(1)} MiB`;
  await podman(["image", "unmount", IMAGE]);

  // 5. Run it.
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  t0 = performance.now();
  // --health-interval=disable: no systemd timer (it would call podman without this temp storage);
  // the image's HEALTHCHECK is still the container's and is run below with `podman healthcheck run`.
  await podman(["run", "-d", "--name", CONTAINER, "--network", "host", ...ULIMITS, "--health-interval=disable", "-e", `PORT=${port}`, IMAGE]);
  const coldMs = await waitHealthy(url, 20_000);
  figures["cold start (podman run -d until /health 200)"] = `${Math.round(performance.now() - t0)} ms`;
  void coldMs;

  const health = await fetch(`${url}/health`);
  check(health.status === 200, "GET /health 200", String(health.status));
  const version = (await (await fetch(`${url}/version`)).json()) as { version?: string; revision?: string };
  check(version.version === pkg.version && version.revision === revision, "GET /version reports the baked version and revision", JSON.stringify(version));
  const stress = await fetch(`${url}/stress?seconds=1`);
  check(stress.status === 200, "GET /stress runs the embedded worker", String(stress.status));

  const pid = Number((await podman(["inspect", "--format", "{{.State.Pid}}", CONTAINER])).stdout.trim());
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const uid = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  check(uid?.[1] === String(NONROOT_UID) && uid?.[2] === String(NONROOT_UID), "serves as uid 65532", uid?.slice(1).join(" "));
  const nspid = /^NSpid:.*\s(\d+)$/m.exec(status)?.[1];
  check(nspid === "1", "the binary is PID 1 in the container", nspid);

  // podman image inspect does not show HEALTHCHECK; the container created from the image does.
  const hc = JSON.parse((await podman(["container", "inspect", "--format", "{{json .Config.Healthcheck}}", CONTAINER])).stdout || "null") as { Test?: string[] } | null;
  check(JSON.stringify(hc?.Test) === JSON.stringify(["CMD", "/app/bun-k8s", "healthcheck"]), "HEALTHCHECK uses the healthcheck subcommand", JSON.stringify(hc));

  const sh = await podman(["exec", CONTAINER, "/bin/sh", "-c", "true"], { allowFail: true });
  check(sh.code !== 0, "podman exec /bin/sh fails (no shell)", `exit ${sh.code}`);

  const hcRun = await podman(["healthcheck", "run", CONTAINER], { allowFail: true });
  check(hcRun.code === 0, "podman healthcheck run: healthy", `exit ${hcRun.code} ${hcRun.stdout.trim()} ${hcRun.stderr.trim()}`.trim());
  const healthStatus = (await podman(["inspect", "--format", "{{.State.Health.Status}}", CONTAINER], { allowFail: true })).stdout.trim();
  check(healthStatus === "healthy", "container health status", healthStatus);

  // 6. Stop with a request in flight: drained, exit 0, within the grace period.
  const inflight = fetch(`${url}/delay/1`).then((r) => r.status, (e) => String(e));
  await Bun.sleep(200);
  t0 = performance.now();
  const stop = await podman(["stop", "-t", String(STOP_GRACE_SECONDS), CONTAINER], { allowFail: true });
  const stopMs = Math.round(performance.now() - t0);
  figures["podman stop"] = `${stopMs} ms`;
  check(stop.code === 0, "podman stop succeeded", stop.code === 0 ? "" : stop.stderr.trim());
  check(stopMs < STOP_GRACE_SECONDS * 1000, `stopped within the ${STOP_GRACE_SECONDS} s grace period (not killed)`, `${stopMs} ms`);
  check((await inflight) === 200, "the in-flight request was answered", String(await inflight));
  const exit = (await podman(["inspect", "--format", "{{.State.ExitCode}}", CONTAINER])).stdout.trim();
  check(exit === "0", "exit code 0", exit);
  const logs = await podman(["logs", CONTAINER], { allowFail: true });
  check(/shutdown complete/.test(logs.stdout + logs.stderr), "logged a clean shutdown");

  // 7. Layer caching (lesson 23), in a copy of the context: a cold build, one after a change in
  // src/, one after a change in package.json. Their own storage with overlay, since kept layers
  // on vfs cost a full copy per step (about 140 s more here); only the build stage (--target
  // build), which is what the claims are about.
  t0 = performance.now();
  const layerStorage = tempStorage("overlay");
  const context = copyBuildContext();
  try {
    const layerBases = await importBaseImages(layerStorage);
    const layered = (name: string, change: string, tag: string): Promise<LayerBuild> =>
      layerBuild(layerStorage, { name, change, context, tag: `localhost/bun-k8s-layers:${tag}`, bases: layerBases, args: buildArgs, target: "build", echo: true });
    const cold = await layered("a cold", "none (new podman storage)", "cold");
    const afterSource = await layered("b src", changeSource(context), "src");
    const afterPackageJson = await layered("c package.json", changePackageJson(context), "package-json");
    console.log(`\n${layerTable([cold, afterSource, afterPackageJson])}`);
    for (const c of layerClaims({ cold, afterSource, afterPackageJson })) check(c.ok, c.what, c.detail);
    figures["layer check (3 builds of the build stage)"] = `${Math.round(performance.now() - t0)} ms (a ${cold.seconds} s, b ${afterSource.seconds} s, c ${afterPackageJson.seconds} s)`;
  } finally {
    rmSync(context, { recursive: true, force: true });
    if (!KEEP) removeStorage(layerStorage);
  }
}

let crashed: unknown;
try {
  await main();
} catch (err) {
  crashed = err;
} finally {
  if (!KEEP) {
    await podman(["rm", "-f", "-t", "0", CONTAINER], { allowFail: true });
    await podman(["image", "unmount", "-a"], { allowFail: true });
    removeStorage(storage);
  } else {
    console.log(`podman storage kept at ${storage}`);
  }
}
figures["total wall time"] = `${((performance.now() - started) / 1000).toFixed(1)} s`;
console.log("\nfigures:");
for (const [k, v] of Object.entries(figures)) console.log(`  ${k}: ${v}`);
if (crashed) {
  console.error(`\ntest:image FAILED: ${crashed instanceof Error ? crashed.message : crashed}`);
  process.exit(1);
}
if (failures.length) {
  console.error(`\ntest:image FAILED: ${failures.length} check(s): ${failures.join("; ")}`);
  process.exit(1);
}
console.log("\ntest:image passed");
