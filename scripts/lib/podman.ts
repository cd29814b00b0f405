// Builds the project's Dockerfile with rootful podman where no Docker engine runs, on the local
// base images from Debian packages (rootfs.ts), and saves it as an archive that containerd (and
// `docker load`) imports. The storage persists under `storage`, so a rebuild reuses the bases.
//
// podman 4.3 on these machines: runc (crun fails on the hybrid cgroup setup), vfs, cgroupfs,
// explicit ulimits, --network host for `bun install` in the build stage.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT as REPO_ROOT } from "./repo";
import { bunBuildRootfs, distrolessRootfs, NONROOT_UID, pinnedBunVersion, rootfsTarball } from "./rootfs";

export const ULIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096"];
const BUILD_BASE = `localhost/bun-k8s-base/bun-build:${pinnedBunVersion()}`;
const RUNTIME_BASE = "localhost/bun-k8s-base/distroless-base:local";
const CA_IN_BUILD = "/etc/ssl/certs/build-extra-ca.crt";

export function podmanArgs(storage: string): string[] {
  return [
    "podman", "--root", join(storage, "root"), "--runroot", join(storage, "runroot"), "--tmpdir", join(storage, "libpod"),
    "--storage-driver", "vfs", "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
  ];
}

async function podman(storage: string, args: string[], stream = false): Promise<string> {
  const proc = Bun.spawn([...podmanArgs(storage), ...args], {
    cwd: REPO_ROOT,
    stdout: stream ? "inherit" : "pipe",
    stderr: stream ? "inherit" : "pipe",
    env: { ...process.env, BUILDAH_FORMAT: "docker" },
  });
  const [code, stdout, stderr] = await Promise.all([
    proc.exited,
    proc.stdout instanceof ReadableStream ? new Response(proc.stdout).text() : "",
    proc.stderr instanceof ReadableStream ? new Response(proc.stderr).text() : "",
  ]);
  if (code !== 0) throw new Error(`podman ${args.join(" ")} failed (exit ${code}):\n${stderr}${stdout}`);
  return stdout;
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
  const have = async (r: string) => (await podman(storage, ["images", "-q", r]).catch(() => "")).trim() !== "";
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
  const caVolume = extraCa ? ["--volume", `${extraCa}:${CA_IN_BUILD}:ro`] : [];
  await podman(
    storage,
    [
      // --timestamp 0: the same sources give the same image id, so a rebuild of unchanged code is a no-op.
      "build", "--format", "docker", "--timestamp", "0", "--network", "host", "--pull=never", ...ULIMITS, ...caVolume,
      "--build-arg", `BUN_IMAGE=${BUILD_BASE}`, "--build-arg", `RUNTIME_IMAGE=${RUNTIME_BASE}`,
      "--build-arg", `VERSION=${options.version}`, "--build-arg", `REVISION=${options.revision}`, "--build-arg", "SOURCE=local",
      "-t", ref, "-f", "Dockerfile", ".",
    ],
    true,
  );
  const id = (await podman(storage, ["image", "inspect", "--format", "{{.Id}}", ref])).trim();
  const uniqueRef = `${ref}-${id.replace(/^sha256:/, "").slice(0, 12)}`;
  await podman(storage, ["tag", ref, uniqueRef]);
  const archive = join(storage, "app-image.tar");
  rmSync(archive, { force: true });
  await podman(storage, ["save", "--multi-image-archive", "--format", "docker-archive", "-o", archive, ref, uniqueRef]);
  return { id, uniqueRef, archive };
}
