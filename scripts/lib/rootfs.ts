// Root filesystems assembled from Debian packages, for tests that cannot pull images here.
//
// distrolessRootfs(): what gcr.io/distroless/base-debian12:nonroot ships (base-files, netbase,
//   tzdata, ca-certificates, libc6, libssl3, passwd/group with nonroot 65532, /tmp 1777,
//   /home/nonroot) and nothing else: no shell, no package manager, no coreutils.
// bunBuildRootfs(): a stand-in for the official oven/bun Debian image's build role: the same
//   Debian base plus the pinned Bun from npm at /usr/local/bin/bun.
//
// Both are cached under .artifacts/image/ (gitignored, .dockerignored), keyed by the package
// versions, so only the first run downloads anything. Assembly needs apt-get, dpkg-deb and a
// Debian/Ubuntu host; extraction with dpkg-deb -x keeps the packages' root ownership only when
// run as root, which is also what unshare and rootful podman need.
import { ROOT } from "./repo";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const ARTIFACTS = join(ROOT, ".artifacts", "image");

/** The packages gcr.io/distroless/base-debian12 is made of. */
export const DISTROLESS_PACKAGES = ["base-files", "netbase", "tzdata", "ca-certificates", "libc6", "libssl3"] as const;

export const NONROOT_UID = 65532;

function run(cmd: string[], cwd?: string): string {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, LC_ALL: "C" } });
  if (r.exitCode !== 0) {
    throw new Error(`${cmd.join(" ")} failed (exit ${r.exitCode}):\n${r.stderr.toString()}${r.stdout.toString()}`);
  }
  return r.stdout.toString();
}

/** What is missing on this host to assemble a root filesystem, or undefined when all is there. */
export function rootfsUnavailable(): string | undefined {
  if (process.platform !== "linux") return "root filesystems are assembled on Linux only";
  for (const tool of ["apt-get", "apt-cache", "dpkg-deb", "tar"]) {
    if (!Bun.which(tool)) return `${tool} is not installed (a Debian or Ubuntu host is needed)`;
  }
  if (process.getuid?.() !== 0) return "assembling and entering the root filesystem needs root";
  return undefined;
}

/** Candidate versions of the packages, from apt's lists (runs apt-get update once if they are empty). */
export function candidateVersions(packages: readonly string[]): Record<string, string> {
  const query = () => {
    const out = run(["apt-cache", "policy", ...packages]);
    const versions: Record<string, string> = {};
    let current: string | undefined;
    for (const line of out.split("\n")) {
      const head = /^(\S+):$/.exec(line);
      if (head) current = head[1];
      const cand = /^\s+Candidate:\s+(\S+)/.exec(line);
      if (current && cand && cand[1] !== "(none)") versions[current] = cand[1]!;
    }
    return versions;
  };
  let versions = query();
  if (packages.some((p) => !versions[p])) {
    run(["apt-get", "update", "-qq"]);
    versions = query();
  }
  const missing = packages.filter((p) => !versions[p]);
  if (missing.length) throw new Error(`apt has no candidate for ${missing.join(", ")}`);
  return versions;
}

function debArch(): string {
  return run(["dpkg", "--print-architecture"]).trim();
}

/** Downloads (cached) and extracts the packages into dir. */
function extractPackages(packages: readonly string[], versions: Record<string, string>, dir: string): void {
  const debs = join(ARTIFACTS, "debs");
  mkdirSync(debs, { recursive: true });
  const have = () => readdirSync(debs);
  const fileFor = (p: string) => {
    // apt-get download names files <name>_<version with ':' escaped as %3a>_<arch>.deb
    const v = versions[p]!.replaceAll(":", "%3a");
    return have().find((f) => f.startsWith(`${p}_${v}_`) && f.endsWith(".deb"));
  };
  const todo = packages.filter((p) => !fileFor(p));
  if (todo.length) {
    run(["apt-get", "download", "-qq", "-o", "APT::Sandbox::User=root", ...todo.map((p) => `${p}=${versions[p]}`)], debs);
  }
  for (const p of packages) {
    const f = fileFor(p);
    if (!f) throw new Error(`apt-get download did not produce ${p} ${versions[p]}`);
    run(["dpkg-deb", "-x", join(debs, f), dir]);
  }
}

function writeUsersAndDirs(dir: string): void {
  const etc = join(dir, "etc");
  mkdirSync(etc, { recursive: true });
  // The same accounts as distroless: root, nobody, nonroot (65532).
  writeFileSync(
    join(etc, "passwd"),
    [
      "root:x:0:0:root:/root:/sbin/nologin",
      "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin",
      `nonroot:x:${NONROOT_UID}:${NONROOT_UID}:nonroot:/home/nonroot:/sbin/nologin`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(etc, "group"), ["root:x:0:", "nogroup:x:65534:", `nonroot:x:${NONROOT_UID}:`, ""].join("\n"));
  // ca-certificates ships the certificates; its postinst (not run by dpkg-deb -x) builds the bundle.
  const certs = join(dir, "usr/share/ca-certificates/mozilla");
  if (existsSync(certs)) {
    const bundle = readdirSync(certs)
      .filter((f) => f.endsWith(".crt"))
      .sort()
      .map((f) => readFileSync(join(certs, f), "utf8").trimEnd() + "\n")
      .join("");
    mkdirSync(join(etc, "ssl/certs"), { recursive: true });
    writeFileSync(join(etc, "ssl/certs/ca-certificates.crt"), bundle);
  }
  for (const [path, mode, uid] of [
    ["tmp", 0o1777, 0],
    ["root", 0o700, 0],
    ["home/nonroot", 0o700, NONROOT_UID],
    ["proc", 0o555, 0],
    ["dev", 0o755, 0],
    ["sys", 0o555, 0],
    ["app", 0o755, 0],
  ] as const) {
    mkdirSync(join(dir, path), { recursive: true });
    chmodSync(join(dir, path), mode);
    chownSync(join(dir, path), uid, uid);
  }
}

/** Assembles into a temp dir and renames into place, so an interrupted run leaves no half rootfs. */
function cached(name: string, key: string, assemble: (dir: string) => void | Promise<void>): Promise<string> | string {
  const dir = join(ARTIFACTS, `${name}-${key}`);
  if (existsSync(join(dir, ".complete"))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const finish = () => {
    writeFileSync(join(tmp, ".complete"), key + "\n");
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    return dir;
  };
  const r = assemble(tmp);
  return r instanceof Promise ? r.then(finish) : finish();
}

function keyOf(versions: Record<string, string>, extra = ""): string {
  const text = Object.entries(versions).sort().map(([p, v]) => `${p}=${v}`).join(",") + extra;
  return `${debArch()}-${Bun.hash(text).toString(16).slice(0, 12)}`;
}

/** A distroless-equivalent root filesystem (no shell). Returns its path. */
export async function distrolessRootfs(): Promise<string> {
  const reason = rootfsUnavailable();
  if (reason) throw new Error(reason);
  const versions = candidateVersions(DISTROLESS_PACKAGES);
  return cached("distroless", keyOf(versions), (dir) => {
    extractPackages(DISTROLESS_PACKAGES, versions, dir);
    writeUsersAndDirs(dir);
    for (const shell of ["bin/sh", "usr/bin/sh", "bin/bash", "bin/dash", "bin/busybox"]) {
      if (existsSync(join(dir, shell))) throw new Error(`distroless rootfs unexpectedly contains /${shell}`);
    }
  });
}

/** The Bun version pinned by the Dockerfile's BUN_IMAGE (oven/bun:<version>-debian). */
export function pinnedBunVersion(): string {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const m = /^ARG BUN_IMAGE=\S+:(\d+\.\d+\.\d+)\S*$/m.exec(dockerfile);
  if (!m) throw new Error("Dockerfile: no pinned `ARG BUN_IMAGE=oven/bun:<x.y.z>-debian` found");
  return m[1]!;
}

/** Installs the pinned Bun from npm (@oven/bun-linux-<arch>) with bun itself; returns the binary path. */
async function bunFromNpm(version: string): Promise<string> {
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  const pkg = `@oven/bun-linux-${arch}`;
  const dir = join(ARTIFACTS, `npm-bun-${version}-${arch}`);
  const bin = join(dir, "node_modules", pkg, "bin", "bun");
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bun-download", private: true, dependencies: { [pkg]: version } }));
  run([process.execPath, "install", "--no-save", "--ignore-scripts"], dir);
  if (!existsSync(bin)) throw new Error(`bun install did not produce ${bin}`);
  return bin;
}

/**
 * A minimal Debian root filesystem with the pinned Bun: the local stand-in for the official
 * oven/bun:<version>-debian build image. Like it, bun is /usr/local/bin/bun (and bunx).
 */
export async function bunBuildRootfs(): Promise<string> {
  const reason = rootfsUnavailable();
  if (reason) throw new Error(reason);
  const version = pinnedBunVersion();
  const packages = [...DISTROLESS_PACKAGES, "libgcc-s1"] as const;
  const versions = candidateVersions(packages);
  const bun = await bunFromNpm(version);
  return cached("bun-build", keyOf(versions, `bun=${version}`), (dir) => {
    extractPackages(packages, versions, dir);
    writeUsersAndDirs(dir);
    mkdirSync(join(dir, "usr/local/bin"), { recursive: true });
    copyFileSync(bun, join(dir, "usr/local/bin/bun"));
    chmodSync(join(dir, "usr/local/bin/bun"), 0o755);
    symlinkSync("bun", join(dir, "usr/local/bin/bunx"));
  });
}

/** A tarball of a root filesystem (for `podman import`), written next to it and cached. */
export function rootfsTarball(dir: string): string {
  const tar = `${dir}.tar`;
  if (existsSync(tar)) return tar;
  run(["tar", "--numeric-owner", "--exclude=./.complete", "-C", dir, "-cf", `${tar}.tmp`, "."]);
  renameSync(`${tar}.tmp`, tar);
  return tar;
}

if (import.meta.main) {
  const which = process.argv[2] ?? "distroless";
  const dir = which === "bun-build" ? await bunBuildRootfs() : await distrolessRootfs();
  console.log(dir);
}
