#!/usr/bin/env bun
// `bun run test:image`: build the real Dockerfile with podman and run the container.
//
// The stock base images cannot be pulled here, so local equivalents are built from Debian's
// packages (scripts/lib/rootfs.ts) and passed with --build-arg:
//   BUN_IMAGE     a minimal Debian root filesystem with the pinned Bun from npm
//   RUNTIME_IMAGE the distroless base-debian12 package set with nonroot 65532 and no shell
// Checks: image config (user, port, entrypoint, HEALTHCHECK, OCI labels), no /bin/sh in the
// image, /health served by uid 65532, `podman healthcheck run` healthy, and `podman stop`
// within the grace period with exit code 0 and the in-flight request answered.
//
// podman 4.3 facts on these machines: --runtime runc (crun fails on the hybrid cgroup setup),
// explicit ulimits, the vfs storage driver, --format docker on build (OCI drops HEALTHCHECK),
// --network host for `bun install` in the build stage. All podman storage lives in a temp dir
// that is removed afterwards (vfs grows by gigabytes).
//
// Without podman (or root) it skips with a message, except with CI=true, where it fails.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { podmanArgs, ULIMITS } from "./lib/podman";
import { gitRevision, ROOT } from "./lib/repo";
import { bunBuildRootfs, distrolessRootfs, NONROOT_UID, pinnedBunVersion, rootfsTarball, rootfsUnavailable } from "./lib/rootfs";

const CI = process.env.CI === "true";
const KEEP = process.env.KEEP_IMAGE_STORAGE === "1"; // debugging: leave the podman storage behind
const IMAGE = "localhost/bun-k8s:test";
const BUILD_BASE = `localhost/bun-k8s-test/bun-build:${pinnedBunVersion()}`;
const RUNTIME_BASE = "localhost/bun-k8s-test/distroless-base:local";
const CONTAINER = `bun-k8s-image-test-${process.pid}`;
const CA_IN_BUILD = "/etc/ssl/certs/build-extra-ca.crt";
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

const missing = ["podman", "runc"].filter((t) => !Bun.which(t) && !existsSync(`/usr/sbin/${t}`));
if (missing.length) {
  skipOrFail(`${missing.join(" and ")} not installed (Debian: apt-get install -y podman buildah runc uidmap)`);
}
const noRootfs = rootfsUnavailable();
if (noRootfs) skipOrFail(noRootfs);

// /var/tmp: disk-backed on Debian, where /tmp may be a small tmpfs; vfs needs ~1 GB here.
const storageParent = process.env.IMAGE_TEST_TMPDIR ?? (existsSync("/var/tmp") ? "/var/tmp" : tmpdir());
const storage = mkdtempSync(join(storageParent, "bun-k8s-podman-"));
const podmanBase = podmanArgs(storage);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

async function podman(args: string[], options: { quiet?: boolean; allowFail?: boolean; stream?: boolean } = {}): Promise<Result> {
  const t0 = performance.now();
  const proc = Bun.spawn([...podmanBase, ...args], {
    cwd: ROOT,
    stdout: options.stream ? "inherit" : "pipe",
    stderr: options.stream ? "inherit" : "pipe",
    env: { ...process.env, BUILDAH_FORMAT: "docker" },
  });
  const [code, stdout, stderr] = await Promise.all([
    proc.exited,
    proc.stdout instanceof ReadableStream ? new Response(proc.stdout).text() : "",
    proc.stderr instanceof ReadableStream ? new Response(proc.stderr).text() : "",
  ]);
  const ms = Math.round(performance.now() - t0);
  if (code !== 0 && !options.allowFail) {
    throw new Error(`podman ${args.join(" ")} failed (exit ${code}):\n${stderr}${stdout}`);
  }
  return { code, stdout, stderr, ms };
}

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

/** Unmounts anything podman left mounted under the storage dir, then removes it. */
function removeStorage(): void {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m): m is string => !!m && m.startsWith(storage))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) Bun.spawnSync(["umount", "-l", m]);
  rmSync(storage, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { version: string };
  const revision = gitRevision();
  mkdirSync(join(storage, "libpod"), { recursive: true });

  // 1. Local base images from Debian packages (cached under .artifacts/image/).
  let t0 = performance.now();
  const runtimeTar = rootfsTarball(await distrolessRootfs());
  const buildTar = rootfsTarball(await bunBuildRootfs());
  await podman(["import", "--change", `USER=${NONROOT_UID}:${NONROOT_UID}`, "--change", "WORKDIR=/home/nonroot", runtimeTar, RUNTIME_BASE], { quiet: true });
  // A TLS-intercepting proxy or mirror (NODE_EXTRA_CA_CERTS on the host) must be trusted by
  // `bun install` in the build stage too: the certificate is bind-mounted into the RUN steps
  // only, so it is in no layer and never reaches the runtime image.
  const extraCa = process.env.NODE_EXTRA_CA_CERTS && existsSync(process.env.NODE_EXTRA_CA_CERTS) ? process.env.NODE_EXTRA_CA_CERTS : undefined;
  const caChange = extraCa ? ["--change", `ENV=NODE_EXTRA_CA_CERTS=${CA_IN_BUILD}`] : [];
  const caVolume = extraCa ? ["--volume", `${extraCa}:${CA_IN_BUILD}:ro`] : [];
  await podman(["import", "--change", "ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...caChange, "--change", "WORKDIR=/home/bun/app", buildTar, BUILD_BASE], { quiet: true });
  figures["base images (rootfs + import)"] = `${Math.round(performance.now() - t0)} ms`;

  // 2. The real Dockerfile.
  t0 = performance.now();
  await podman(
    [
      // --layers=false: with vfs every cached intermediate layer is a full copy of the tree.
      "build", "--format", "docker", "--layers=false", "--network", "host", "--pull=never", ...ULIMITS, ...caVolume,
      "--build-arg", `BUN_IMAGE=${BUILD_BASE}`,
      "--build-arg", `RUNTIME_IMAGE=${RUNTIME_BASE}`,
      "--build-arg", `VERSION=${pkg.version}`,
      "--build-arg", `REVISION=${revision}`,
      "--build-arg", "SOURCE=local",
      "-f", "Dockerfile", "-t", IMAGE, ".",
    ],
    { stream: true },
  );
  figures["podman build"] = `${Math.round(performance.now() - t0)} ms`;

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
    removeStorage();
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
