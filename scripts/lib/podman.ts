// Builds the project's Dockerfile with rootful podman where no Docker engine runs, on the local
// base images from Debian packages (rootfs.ts). Used by `task image`/`task deploy` (buildProjectImage:
// persistent storage, saved as an archive that containerd and `docker load` import), by
// `bun run test:image` and by scripts/layer-cache.ts (a temp storage each, removed afterwards).
//
// podman 4.3 on these machines: runc (crun fails on the hybrid cgroup setup), vfs, cgroupfs,
// explicit ulimits, --network host for `bun install` in the build stage, --format docker on
// build (the OCI format drops HEALTHCHECK).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT as REPO_ROOT } from "./repo";
import { bunBuildRootfs, distrolessRootfs, NONROOT_UID, pinnedBunVersion, rootfsTarball, rootfsUnavailable } from "./rootfs";

export const ULIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096"];
const BUILD_BASE = `localhost/bun-k8s-base/bun-build:${pinnedBunVersion()}`;
const RUNTIME_BASE = "localhost/bun-k8s-base/distroless-base:local";
const CA_IN_BUILD = "/etc/ssl/certs/build-extra-ca.crt";

export type StorageDriver = "vfs" | "overlay";
const DRIVER_FILE = "storage-driver";

/** vfs unless the storage was made with another driver (tempStorage writes it into the dir). */
function driverOf(storage: string): StorageDriver {
  const file = join(storage, DRIVER_FILE);
  return existsSync(file) && readFileSync(file, "utf8").trim() === "overlay" ? "overlay" : "vfs";
}

export function podmanArgs(storage: string): string[] {
  return [
    "podman", "--root", join(storage, "root"), "--runroot", join(storage, "runroot"), "--tmpdir", join(storage, "libpod"),
    "--storage-driver", driverOf(storage), "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
  ];
}

/** Why podman cannot build the image here (missing tools, not root, no Debian tooling), or undefined. */
export function podmanUnavailable(): string | undefined {
  const missing = ["podman", "runc"].filter((t) => !Bun.which(t) && !existsSync(`/usr/sbin/${t}`));
  if (missing.length) return `${missing.join(" and ")} not installed (Debian: apt-get install -y podman buildah runc uidmap)`;
  return rootfsUnavailable();
}

/**
 * A new, empty podman storage directory. /var/tmp: disk-backed on Debian, where /tmp may be a
 * small tmpfs; vfs copies the whole tree per layer, so a build needs a few GB. vfs works
 * everywhere; overlay shares the unchanged files between layers, which a build that keeps its
 * layers (the layer-cache check) needs to stay fast: with vfs every committed step is a full copy.
 */
export function tempStorage(driver: StorageDriver = "vfs"): string {
  const parent = process.env.IMAGE_TEST_TMPDIR ?? (existsSync("/var/tmp") ? "/var/tmp" : tmpdir());
  const storage = mkdtempSync(join(parent, "bun-k8s-podman-"));
  mkdirSync(join(storage, "libpod"), { recursive: true });
  if (driver !== "vfs") writeFileSync(join(storage, DRIVER_FILE), driver + "\n");
  return storage;
}

/** Unmounts anything podman left mounted under a temp storage dir, then removes it. */
export function removeStorage(storage: string): void {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m): m is string => !!m && m.startsWith(storage))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) Bun.spawnSync(["umount", "-l", m]);
  rmSync(storage, { recursive: true, force: true });
}

export interface PodmanResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Reads a stream to text, echoing it to `echo` as it comes when given. */
async function drain(stream: ReadableStream<Uint8Array>, echo?: NodeJS.WriteStream): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    echo?.write(r.value);
    text += decoder.decode(r.value, { stream: true });
  }
  return text + decoder.decode();
}

/** Runs podman on `storage`; `echo` shows its output live and still captures it. Throws on failure unless allowFail. */
export async function podman(
  storage: string,
  args: string[],
  options: { echo?: boolean; allowFail?: boolean; cwd?: string } = {},
): Promise<PodmanResult> {
  const t0 = performance.now();
  const proc = Bun.spawn([...podmanArgs(storage), ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, BUILDAH_FORMAT: "docker" },
  });
  const [code, stdout, stderr] = await Promise.all([
    proc.exited,
    drain(proc.stdout, options.echo ? process.stdout : undefined),
    drain(proc.stderr, options.echo ? process.stderr : undefined),
  ]);
  const ms = Math.round(performance.now() - t0);
  if (code !== 0 && !options.allowFail) {
    throw new Error(`podman ${args.join(" ")} failed (exit ${code}):\n${options.echo ? "(output above)" : stderr + stdout}`);
  }
  return { code, stdout, stderr, ms };
}

export interface BaseImages {
  /** --build-arg BUN_IMAGE: minimal Debian plus the pinned Bun. */
  buildBase: string;
  /** --build-arg RUNTIME_IMAGE: the distroless package set, nonroot 65532, no shell. */
  runtimeBase: string;
  /** Bind-mounts a host NODE_EXTRA_CA_CERTS into the RUN steps (empty without one). */
  caVolume: string[];
}

/**
 * Imports the local stand-ins for oven/bun and distroless into `storage` unless they are there.
 * A TLS-intercepting proxy or mirror (NODE_EXTRA_CA_CERTS on the host) must be trusted by
 * `bun install` in the build stage too: the certificate is bind-mounted into the RUN steps only,
 * so it is in no layer and never reaches the runtime image.
 */
export async function importBaseImages(storage: string): Promise<BaseImages> {
  const have = async (r: string) => (await podman(storage, ["images", "-q", r], { allowFail: true })).stdout.trim() !== "";
  if (!(await have(RUNTIME_BASE))) {
    await podman(storage, ["import", "--change", `USER=${NONROOT_UID}:${NONROOT_UID}`, "--change", "WORKDIR=/home/nonroot", rootfsTarball(await distrolessRootfs()), RUNTIME_BASE]);
  }
  const extraCa = process.env.NODE_EXTRA_CA_CERTS && existsSync(process.env.NODE_EXTRA_CA_CERTS) ? process.env.NODE_EXTRA_CA_CERTS : undefined;
  if (!(await have(BUILD_BASE))) {
    const caChange = extraCa ? ["--change", `ENV=NODE_EXTRA_CA_CERTS=${CA_IN_BUILD}`] : [];
    await podman(storage, [
      "import", "--change", "ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...caChange,
      "--change", "WORKDIR=/home/bun/app", rootfsTarball(await bunBuildRootfs()), BUILD_BASE,
    ]);
  }
  return { buildBase: BUILD_BASE, runtimeBase: RUNTIME_BASE, caVolume: extraCa ? ["--volume", `${extraCa}:${CA_IN_BUILD}:ro`] : [] };
}

export interface BuildOptions {
  /** The build context (the Dockerfile is its `Dockerfile`). */
  context: string;
  tag: string;
  bases: BaseImages;
  /** VERSION, REVISION, SOURCE: the labels of the runtime stage. */
  args: { version: string; revision: string; source: string };
  /** false: no intermediate layers are kept (with vfs each one is a full copy of the tree). */
  layers: boolean;
  /** Stop after this stage (`--target`), e.g. "build". */
  target?: string;
  /** Further `podman build` flags, e.g. --timestamp 0. */
  extra?: string[];
  echo?: boolean;
}

/** `podman build` of the project's Dockerfile on the local base images; the output is captured (and echoed). */
export async function podmanBuild(storage: string, o: BuildOptions): Promise<PodmanResult> {
  return podman(
    storage,
    [
      "build", "--format", "docker", `--layers=${o.layers}`, "--network", "host", "--pull=never", ...ULIMITS, ...o.bases.caVolume, ...(o.target ? ["--target", o.target] : []), ...(o.extra ?? []),
      "--build-arg", `BUN_IMAGE=${o.bases.buildBase}`, "--build-arg", `RUNTIME_IMAGE=${o.bases.runtimeBase}`,
      "--build-arg", `VERSION=${o.args.version}`, "--build-arg", `REVISION=${o.args.revision}`, "--build-arg", `SOURCE=${o.args.source}`,
      "-t", o.tag, "-f", "Dockerfile", ".",
    ],
    { echo: o.echo, cwd: o.context },
  );
}

export interface PodmanBuild {
  /** Image id (sha256 of its config): the same sources give the same id. */
  id: string;
  /** `<ref>-<first 12 hex digits of the id>`: unique per content. */
  uniqueRef: string;
  /** docker-archive holding both refs, for `ctr images import` or `docker load`. */
  archive: string;
}

/** Builds the Dockerfile as `ref`, tags it with its content id too, and saves both to an archive. */
export async function buildProjectImage(options: { storage: string; ref: string; version: string; revision: string }): Promise<PodmanBuild> {
  const { storage, ref } = options;
  mkdirSync(join(storage, "libpod"), { recursive: true });
  const bases = await importBaseImages(storage);
  await podmanBuild(storage, {
    context: REPO_ROOT, tag: ref, bases, layers: true, echo: true,
    args: { version: options.version, revision: options.revision, source: "local" },
    // --timestamp 0: the same sources give the same image id, so a rebuild of unchanged code is a no-op.
    extra: ["--timestamp", "0"],
  });
  const id = (await podman(storage, ["image", "inspect", "--format", "{{.Id}}", ref])).stdout.trim();
  const uniqueRef = `${ref}-${id.replace(/^sha256:/, "").slice(0, 12)}`;
  await podman(storage, ["tag", ref, uniqueRef]);
  const archive = join(storage, "app-image.tar");
  rmSync(archive, { force: true });
  await podman(storage, ["save", "--multi-image-archive", "--format", "docker-archive", "-o", archive, ref, uniqueRef]);
  return { id, uniqueRef, archive };
}
