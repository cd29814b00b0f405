// Container images of the local cluster, built without a registry: a root filesystem assembled
// here (our Go binaries, or Debian packages) becomes a one-layer image with buildah (from
// scratch, mount, copy, config, commit) and is written as an OCI archive that
// `ctr images import` reads.
//
// buildah runs with its storage in a scratch directory that is removed afterwards, the vfs
// driver (as the image test uses with podman) and a fixed --timestamp, so the same inputs give
// the same image digest. Archives are cached under CACHE_DIR/images, keyed by everything that
// goes into them (binary hashes, Debian package versions, the image config, this recipe).
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as V from "../versions";
import { candidateVersions, debsUnavailable, extractPackages } from "./debs";
import { buildGoTarget, TARGETS } from "./go";
import { log, record, removeStaleScratch, removeTree, run, scratchDir, sha256, sha256File, withLock, writeFileAtomic } from "./util";

export interface ImageArchive {
  ref: string;
  /** An OCI image archive (index.json with the ref in org.opencontainers.image.ref.name). */
  archive: string;
  /** The manifest digest containerd will record for the image. */
  digest: string;
}

interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
  env?: string[];
  workingDir?: string;
  ports?: string[];
  labels?: Record<string, string>;
}

interface Recipe {
  name: string;
  ref: string;
  config: ImageConfig;
  /** Resolves the inputs (building binaries, choosing package versions) without assembling. */
  prepare(cacheDir: string): Promise<{ inputs: string[]; assemble: (root: string) => Promise<void> }>;
}

/** Created time of every image (and of its files): fixed, so rebuilds keep the digest. */
const IMAGE_EPOCH = 0;
const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function labels(title: string, version: string, description: string, source: string): Record<string, string> {
  return {
    "org.opencontainers.image.title": title,
    "org.opencontainers.image.source": source,
    "org.opencontainers.image.version": version,
    "org.opencontainers.image.description": description,
  };
}

function install(src: string, root: string, dest: string, mode = 0o755): void {
  const to = join(root, dest);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(src, to);
  chmodSync(to, mode);
  chownSync(to, 0, 0);
}

function dir(root: string, path: string, mode: number, uid = 0, gid = uid): void {
  const p = join(root, path);
  mkdirSync(p, { recursive: true });
  chmodSync(p, mode);
  chownSync(p, uid, gid);
}

function accounts(root: string, users: Array<[name: string, id: number, home: string]>): void {
  const all: Array<[string, number, string]> = [["root", 0, "/root"], ...users, ["nobody", 65534, "/nonexistent"]];
  dir(root, "etc", 0o755);
  writeFileSync(join(root, "etc/passwd"), all.map(([n, id, home]) => `${n}:x:${id}:${id}:${n}:${home}:/sbin/nologin\n`).join(""));
  writeFileSync(join(root, "etc/group"), all.map(([n, id]) => `${n === "nobody" ? "nogroup" : n}:x:${id}:\n`).join(""));
}

/** A recipe for an image that is one static Go binary (plus an empty /tmp). */
function goImage(opts: {
  name: string;
  ref: string;
  target: keyof typeof TARGETS;
  binary: string;
  dest: string;
  config: ImageConfig;
}): Recipe {
  return {
    name: opts.name,
    ref: opts.ref,
    config: opts.config,
    async prepare(cacheDir) {
      const built = await buildGoTarget(TARGETS[opts.target], cacheDir);
      const bin = built.paths[opts.binary]!;
      return {
        inputs: [`${opts.binary}:${sha256File(bin)}`],
        assemble: async (root) => {
          install(bin, root, opts.dest);
          dir(root, "tmp", 0o1777);
        },
      };
    },
  };
}

async function debianVersions(packages: readonly string[]): Promise<Record<string, string>> {
  const reason = debsUnavailable();
  if (reason) throw new Error(`cannot build the Debian-based images: ${reason}`);
  const versions = await candidateVersions(packages);
  for (const { package: p, versionPrefix } of Object.values(V.DEBIAN_PACKAGES)) {
    if (versions[p] && !versions[p]!.startsWith(versionPrefix)) {
      throw new Error(`apt's candidate for ${p} is ${versions[p]}, versions.ts expects ${versionPrefix}*: check the image names and tags before changing it`);
    }
  }
  return versions;
}

/** Symlinks every applet busybox knows (bin/sh, usr/bin/awk, ...) to /bin/busybox, where free. */
async function busyboxApplets(root: string): Promise<void> {
  const busybox = join(root, "bin/busybox");
  const list = (await run([busybox, "--list-full"])).stdout.split("\n").filter(Boolean);
  for (const applet of list) {
    const p = join(root, applet);
    if (existsSync(p)) continue;
    mkdirSync(dirname(p), { recursive: true });
    symlinkSync("/bin/busybox", p);
  }
}

/** Documentation, iconv modules and other files nothing in these containers reads. */
function prune(root: string): void {
  for (const p of ["usr/share/doc", "usr/share/man", "usr/share/lintian", "usr/share/bug", "etc/init.d", "etc/logrotate.d", "lib/systemd", "usr/lib/systemd", "usr/lib/x86_64-linux-gnu/gconv", "usr/lib/aarch64-linux-gnu/gconv"]) {
    rmSync(join(root, p), { recursive: true, force: true });
  }
}

async function chrootCheck(root: string, cmd: string[], expect: RegExp): Promise<void> {
  const r = await run(["chroot", root, ...cmd], { allowFail: true, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  const out = r.stdout + r.stderr;
  if (r.code !== 0 || !expect.test(out)) {
    throw new Error(`in the assembled image, \`${cmd.join(" ")}\` gave exit ${r.code}: ${out.trim()}`);
  }
}

const BUSYBOX_PACKAGES = [V.DEBIAN_PACKAGES.busybox.package] as const;

// Shared libraries of Debian bookworm's redis-server/redis-cli (ldd), by package. The build
// runs both inside the assembled tree, so a missing library fails it.
const REDIS_PACKAGES = [
  V.DEBIAN_PACKAGES.redis.package,
  "redis-tools",
  "libc6",
  "libatomic1",
  "libgcc-s1",
  "libstdc++6",
  "libjemalloc2",
  "liblzf1",
  "libssl3",
  "libsystemd0",
  "libcap2",
  "libgcrypt20",
  "libgpg-error0",
  "liblz4-1",
  "liblzma5",
  "libzstd1",
  V.DEBIAN_PACKAGES.busybox.package,
] as const;

const REDIS_UID = 999;

export const RECIPES: Recipe[] = [
  goImage({
    name: "pause",
    ref: V.PAUSE_IMAGE,
    target: "pause",
    binary: "pause",
    dest: "pause",
    // As upstream's pause image: 65535, the entrypoint only.
    config: { entrypoint: ["/pause"], user: "65535:65535", workingDir: "/", labels: labels("pause", V.PAUSE_VERSION, "Pod sandbox: holds the namespaces, reaps zombies, exits 0 on SIGTERM/SIGINT", "bun-k8s scripts/local-cluster/build/go/pause") },
  }),
  goImage({
    name: "coredns",
    ref: V.COREDNS_IMAGE,
    target: "coredns",
    binary: "coredns",
    dest: "coredns",
    // Upstream runs as nonroot with a file capability for port 53; file capabilities do not
    // apply under allowPrivilegeEscalation: false, so this image keeps root (binding 53 needs
    // NET_BIND_SERVICE, which the usual CoreDNS manifest adds and which root then has).
    config: { entrypoint: ["/coredns"], workingDir: "/", ports: ["53/tcp", "53/udp"], labels: labels("coredns", V.COREDNS_VERSION, "CoreDNS built from source", "https://github.com/coredns/coredns") },
  }),
  goImage({
    name: "metrics-server",
    ref: V.METRICS_SERVER_IMAGE,
    target: "metrics-server",
    binary: "metrics-server",
    dest: "metrics-server",
    config: { entrypoint: ["/metrics-server"], user: "65534", workingDir: "/", labels: labels("metrics-server", V.METRICS_SERVER_VERSION, "metrics-server built from source", "https://github.com/kubernetes-sigs/metrics-server") },
  }),
  goImage({
    name: "local-path-provisioner",
    ref: V.LOCAL_PATH_PROVISIONER_IMAGE,
    target: "local-path-provisioner",
    binary: "local-path-provisioner",
    // Its manifest runs `local-path-provisioner ...` by PATH lookup.
    dest: "usr/bin/local-path-provisioner",
    config: { cmd: ["local-path-provisioner"], env: [PATH_ENV], workingDir: "/", labels: labels("local-path-provisioner", V.LOCAL_PATH_PROVISIONER_VERSION, "local-path-provisioner built from source", "https://github.com/rancher/local-path-provisioner") },
  }),
  {
    name: "busybox",
    ref: V.BUSYBOX_IMAGE,
    config: { cmd: ["sh"], env: [PATH_ENV], workingDir: "/", labels: labels("busybox", V.BUSYBOX_IMAGE.split(":").pop()!, "Debian bookworm's busybox-static", "https://packages.debian.org/bookworm/busybox-static") },
    async prepare(cacheDir) {
      const versions = await debianVersions(BUSYBOX_PACKAGES);
      return {
        inputs: Object.entries(versions).map(([p, v]) => `${p}=${v}`),
        assemble: async (root) => {
          await extractPackages(BUSYBOX_PACKAGES, versions, join(cacheDir, "debs"), root);
          prune(root);
          await busyboxApplets(root);
          accounts(root, []);
          dir(root, "tmp", 0o1777);
          dir(root, "root", 0o700);
          await chrootCheck(root, ["/bin/sh", "-c", "mkdir -m 0777 -p /tmp/x && rm -rf /tmp/x && echo ok"], /^ok$/m);
        },
      };
    },
  },
  {
    name: "redis",
    ref: V.REDIS_IMAGE,
    config: {
      cmd: ["redis-server"],
      user: `${REDIS_UID}:${REDIS_UID}`,
      env: [PATH_ENV],
      workingDir: "/data",
      ports: ["6379/tcp"],
      labels: labels("redis", "debian-bookworm", "Debian bookworm's redis-server and redis-cli (Redis 7.0) with busybox sh and grep, under the name the manifests use", "https://packages.debian.org/bookworm/redis-server"),
    },
    async prepare(cacheDir) {
      const versions = await debianVersions(REDIS_PACKAGES);
      return {
        inputs: Object.entries(versions).map(([p, v]) => `${p}=${v}`),
        assemble: async (root) => {
          await extractPackages(REDIS_PACKAGES, versions, join(cacheDir, "debs"), root);
          prune(root);
          await busyboxApplets(root);
          accounts(root, [["redis", REDIS_UID, "/data"]]);
          dir(root, "data", 0o755, REDIS_UID);
          dir(root, "tmp", 0o1777);
          dir(root, "root", 0o700);
          await chrootCheck(root, ["/usr/bin/redis-server", "--version"], /^Redis server v=7\.0\./m);
          await chrootCheck(root, ["/usr/bin/redis-cli", "--version"], /^redis-cli 7\.0\./m);
          await chrootCheck(root, ["/bin/sh", "-c", "echo PONG | grep -q PONG && echo ok"], /^ok$/m);
        },
      };
    },
  },
];

function buildahBase(storage: string): string[] {
  return ["buildah", "--root", join(storage, "root"), "--runroot", join(storage, "runroot"), "--storage-driver", "vfs"];
}

/** Commits the root filesystem as a one-layer image into an OCI archive. */
async function buildahImage(storage: string, root: string, recipe: Recipe, out: string): Promise<void> {
  const b = buildahBase(storage);
  const env = { TMPDIR: join(storage, "tmp") };
  mkdirSync(env.TMPDIR, { recursive: true });
  const id = (await run([...b, "from", "--name", `bun-k8s-${recipe.name}-${process.pid}`, "scratch"], { env })).stdout.trim();
  try {
    const mnt = (await run([...b, "mount", id], { env })).stdout.trim();
    // cp -a keeps owners, modes and symlinks as assembled.
    await run(["cp", "-a", `${root}/.`, `${mnt}/`]);
    await run([...b, "umount", id], { env });
    const c = recipe.config;
    const args = [...b, "config", "--os", "linux", "--arch", process.arch === "arm64" ? "arm64" : "amd64"];
    args.push("--entrypoint", JSON.stringify(c.entrypoint ?? []));
    args.push("--cmd", c.cmd ? JSON.stringify(c.cmd) : "");
    if (c.user) args.push("--user", c.user);
    for (const e of c.env ?? []) args.push("--env", e);
    if (c.workingDir) args.push("--workingdir", c.workingDir);
    for (const p of c.ports ?? []) args.push("--port", p);
    for (const [k, v] of Object.entries(c.labels ?? {})) args.push("--label", `${k}=${v}`);
    args.push("--created-by", `bun-k8s local-cluster image ${recipe.name}`);
    await run([...args, id], { env });
    await run([...b, "commit", "--quiet", "--format", "oci", "--timestamp", String(IMAGE_EPOCH), "--identity-label=false", "--rm", id, `oci-archive:${out}:${recipe.ref}`], { env });
  } catch (err) {
    await run([...b, "rm", id], { env, allowFail: true });
    throw err;
  }
}

/** The manifest digest an OCI archive's index.json names for ref. */
export async function archiveDigest(archive: string, ref: string): Promise<string> {
  const index = JSON.parse((await run(["tar", "-xOf", archive, "index.json"])).stdout) as {
    manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
  };
  const m = index.manifests.find((d) => d.annotations?.["org.opencontainers.image.ref.name"] === ref) ?? (index.manifests.length === 1 ? index.manifests[0] : undefined);
  if (!m) throw new Error(`${archive}: no manifest for ${ref} in index.json`);
  return m.digest;
}

const RECIPE_HASH = sha256(readFileSync(import.meta.path));

/** Builds (or reuses) the archive of every recipe (or of those named in only), in RECIPES order. */
export async function buildImageArchives(cacheDir: string, only?: string[]): Promise<ImageArchive[]> {
  if (!Bun.which("buildah")) throw new Error("buildah is not installed (Debian: apt-get install -y buildah)");
  if (process.getuid?.() !== 0) throw new Error("building images (buildah mount, chroot checks) needs root");
  const imageDir = join(cacheDir, "images");
  mkdirSync(imageDir, { recursive: true });
  removeStaleScratch(join(cacheDir, "tmp"));
  removeStaleScratch(imageDir);
  const results: ImageArchive[] = [];
  let storage: string | undefined;
  try {
    for (const recipe of RECIPES) {
      if (only && !only.includes(recipe.name)) continue;
      const prepared = await recipe.prepare(cacheDir);
      results.push(
        await withLock(join(cacheDir, "locks"), `image-${recipe.name}`, async () => {
          const key = sha256(JSON.stringify({ ref: recipe.ref, config: recipe.config, inputs: prepared.inputs, recipe: RECIPE_HASH, epoch: IMAGE_EPOCH })).slice(0, 16);
          const archive = join(imageDir, `${recipe.name}-${key}.oci.tar`);
          const meta = `${archive}.json`;
          if (existsSync(archive) && existsSync(meta)) {
            const { digest } = JSON.parse(readFileSync(meta, "utf8")) as { digest: string };
            record({ what: `image ${recipe.ref}`, action: "reused", ms: 0 });
            return { ref: recipe.ref, archive, digest };
          }
          const t0 = performance.now();
          storage ??= scratchDir(join(cacheDir, "tmp"), "buildah");
          const root = scratchDir(join(cacheDir, "tmp"), `rootfs-${recipe.name}`);
          try {
            await prepared.assemble(root);
            const tmp = `${archive}.tmp-${process.pid}`;
            rmSync(tmp, { force: true });
            await buildahImage(storage, root, recipe, tmp);
            const digest = await archiveDigest(tmp, recipe.ref);
            renameSync(tmp, archive);
            writeFileAtomic(meta, JSON.stringify({ ref: recipe.ref, digest, inputs: prepared.inputs }, null, 2) + "\n");
            // Older archives of this image are superseded.
            for (const f of readdirSync(imageDir)) {
              if (f.startsWith(`${recipe.name}-`) && !f.startsWith(`${recipe.name}-${key}`)) rmSync(join(imageDir, f), { force: true });
            }
            record({ what: `image ${recipe.ref} (${digest.slice(0, 19)})`, action: "built", ms: performance.now() - t0 });
            return { ref: recipe.ref, archive, digest };
          } finally {
            rmSync(root, { recursive: true, force: true });
          }
        }),
      );
    }
  } finally {
    if (storage) removeTree(storage);
  }
  log(`${results.length} image archive(s) in ${imageDir}`);
  return results;
}
