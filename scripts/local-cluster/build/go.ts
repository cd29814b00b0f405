// Go programs of the local cluster, built from source through the wrapper modules in go/<name>/.
//
// Each wrapper is a Go module of ours whose go.mod requires the upstream module at the version
// pinned in ../versions.ts and names its main packages with `tool` directives (pause is our own
// code instead). Building inside the wrapper means our go.sum decides every dependency, and
// upstream replace directives (etcd's point at sibling directories) do not stop the build.
//
// Builds are static (CGO_ENABLED=0), -trimpath, stripped, -mod=readonly (a go.mod that is not
// tidy fails instead of being rewritten), with GOTOOLCHAIN=GO_TOOLCHAIN from versions.ts: the
// host's go (>= 1.21) runs that exact toolchain, fetched once from the module proxy. The module
// and build caches are CACHE_DIR/go/{mod,build}, so one directory holds everything the cluster
// build has downloaded or compiled, and removing it gives a cold build.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as V from "../versions";
import { log, record, removeStaleScratch, run, scratchDir, sha256, withLock, writeFileAtomic } from "./util";

export const GO_DIR = join(import.meta.dir, "go");
/** Inside a wrapper: the copies of edited modules, present only while that wrapper builds. */
const EDITED_DIR = ".edited";

export interface GoTarget {
  /** The wrapper directory under go/. */
  name: string;
  /** The upstream module and version the wrapper's go.mod must require (absent for our own code). */
  module?: string;
  version: string;
  /** Output binary name -> package path. */
  packages: Record<string, string>;
  /** -X settings; the value may use {buildDate}: the pinned module version's commit time. */
  vars?: Record<string, string>;
  /** Upstream files changed for the build only (a copy of the module replaces it, see editedModFile). */
  edits?: SourceEdit[];
}

/**
 * Lines removed from one file of a module in the wrapper's build list. Every pattern must match,
 * so a version bump that changes the file fails the build instead of silently building it whole.
 */
export interface SourceEdit {
  module: string;
  /** Path inside the module. */
  file: string;
  /** Each match of a pattern (multiline, with the g flag) is deleted; it must match `times` times. */
  remove: { pattern: RegExp; times: number }[];
}

const K8S_VERSION_VARS = (() => {
  const [major, minor] = V.KUBERNETES_VERSION.replace(/^v/, "").split(".");
  const vars: Record<string, string> = {};
  for (const pkg of ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]) {
    vars[`${pkg}.gitVersion`] = V.KUBERNETES_VERSION;
    vars[`${pkg}.gitMajor`] = major!;
    vars[`${pkg}.gitMinor`] = minor!;
    vars[`${pkg}.gitTreeState`] = "clean";
    vars[`${pkg}.buildDate`] = "{buildDate}";
  }
  return vars;
})();

export const TARGETS = {
  kubernetes: {
    name: "kubernetes",
    module: "k8s.io/kubernetes",
    version: V.KUBERNETES_VERSION,
    packages: Object.fromEntries(
      ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"].map((c) => [c, `k8s.io/kubernetes/cmd/${c}`]),
    ),
    vars: K8S_VERSION_VARS,
  },
  etcd: {
    name: "etcd",
    module: "go.etcd.io/etcd/server/v3",
    version: V.ETCD_VERSION,
    packages: { etcd: "go.etcd.io/etcd/server/v3" },
  },
  "kube-router": {
    name: "kube-router",
    module: "github.com/cloudnativelabs/kube-router/v2",
    version: V.KUBE_ROUTER_VERSION,
    packages: { "kube-router": "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router" },
    vars: {
      "github.com/cloudnativelabs/kube-router/v2/pkg/version.Version": V.KUBE_ROUTER_VERSION,
      "github.com/cloudnativelabs/kube-router/v2/pkg/version.BuildDate": "{buildDate}",
    },
  },
  coredns: {
    name: "coredns",
    module: "github.com/coredns/coredns",
    version: V.COREDNS_VERSION,
    packages: { coredns: "github.com/coredns/coredns" },
  },
  "metrics-server": {
    name: "metrics-server",
    module: "sigs.k8s.io/metrics-server",
    version: V.METRICS_SERVER_VERSION,
    packages: { "metrics-server": "sigs.k8s.io/metrics-server/cmd/metrics-server" },
    // What its Makefile sets (it reports the client-go version variables).
    vars: {
      "k8s.io/client-go/pkg/version.gitVersion": V.METRICS_SERVER_VERSION,
      "k8s.io/client-go/pkg/version.buildDate": "{buildDate}",
    },
  },
  "local-path-provisioner": {
    name: "local-path-provisioner",
    module: "github.com/rancher/local-path-provisioner",
    version: V.LOCAL_PATH_PROVISIONER_VERSION,
    packages: { "local-path-provisioner": "github.com/rancher/local-path-provisioner" },
    vars: { "main.VERSION": V.LOCAL_PATH_PROVISIONER_VERSION },
  },
  traefik: {
    name: "traefik",
    module: "github.com/traefik/traefik/v3",
    version: V.TRAEFIK_VERSION,
    packages: { traefik: "github.com/traefik/traefik/v3/cmd/traefik" },
    // What its Makefile sets.
    vars: {
      "github.com/traefik/traefik/v3/pkg/version.Version": V.TRAEFIK_VERSION,
      "github.com/traefik/traefik/v3/pkg/version.BuildDate": "{buildDate}",
    },
    edits: [withoutDnsProviders("github.com/go-acme/lego/v5", V.TRAEFIK_UNSERVED_DNS_PROVIDERS)],
  },
  pause: {
    name: "pause",
    version: V.PAUSE_VERSION,
    packages: { pause: "bun-k8s.local/cluster/pause" },
    vars: { "main.version": V.PAUSE_VERSION },
  },
} satisfies Record<string, GoTarget>;

/**
 * lego's registry of ACME DNS-01 providers imports every provider's package; leaving a provider
 * out of it leaves its SDK out of the build (asking for it then fails as an unknown provider).
 */
function withoutDnsProviders(legoModule: string, providers: readonly string[]): SourceEdit {
  const names = providers.join("|");
  return {
    module: legoModule,
    file: "providers/dns/zz_gen_dns_providers.go",
    remove: [
      { pattern: new RegExp(`^\\t"${legoModule.replaceAll(".", "\\.")}/providers/dns/(?:${names})"\\n`, "gm"), times: providers.length },
      { pattern: new RegExp(`^\\tcase [^\\n]+:\\n\\t\\treturn (?:${names})\\.NewDNSProvider\\(\\)\\n`, "gm"), times: providers.length },
    ],
  };
}

export type GoTargetName = keyof typeof TARGETS;

export interface GoEnv {
  go: string;
  version: string;
  env: Record<string, string>;
}

let goEnvCache: Promise<GoEnv> | undefined;

/** The go command (PATH, else /usr/local/go/bin/go) and the environment every build runs with. */
export function goEnv(cacheDir: string): Promise<GoEnv> {
  goEnvCache ??= findGo(cacheDir);
  return goEnvCache;
}

async function findGo(cacheDir: string): Promise<GoEnv> {
  const go = Bun.which("go") ?? (existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : undefined);
  if (!go) throw new Error("go (>= 1.21, to fetch the pinned toolchain) not found on PATH or at /usr/local/go/bin/go");
  const env: Record<string, string> = {
    GOMODCACHE: join(cacheDir, "go", "mod"),
    GOCACHE: join(cacheDir, "go", "build"),
    GOTOOLCHAIN: V.GO_TOOLCHAIN,
    GOFLAGS: "-mod=readonly -buildvcs=false",
    GOWORK: "off",
    GO111MODULE: "on",
    CGO_ENABLED: "0",
    GOOS: "linux",
  };
  // The first call downloads the toolchain when it is not in the module cache yet.
  const version = (await run([go, "env", "GOVERSION"], { env })).stdout.trim();
  if (version !== V.GO_TOOLCHAIN) throw new Error(`GOTOOLCHAIN=${V.GO_TOOLCHAIN} gave ${version} (is ${go} older than go1.21?)`);
  env.GOARCH = (await run([go, "env", "GOARCH"], { env })).stdout.trim();
  return { go, version, env };
}

/** Fails unless the wrapper's go.mod requires exactly the version pinned in versions.ts. */
function checkPin(target: GoTarget, goMod: string): void {
  if (!target.module) return;
  const escaped = target.module.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const m = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(\\S+)`, "m").exec(goMod);
  if (!m) throw new Error(`go/${target.name}/go.mod does not require ${target.module}`);
  if (m[1] !== target.version) {
    throw new Error(`go/${target.name}/go.mod requires ${target.module} ${m[1]} but versions.ts pins ${target.version}; run \`go get ${target.module}@${target.version}\` there`);
  }
}

/** The commit time of the pinned module version (from the module proxy's .info), for buildDate. */
async function moduleTime(target: GoTarget, ge: GoEnv): Promise<string> {
  if (!target.module) return "1970-01-01T00:00:00Z";
  const out = await run([ge.go, "list", "-m", "-json", target.module], { cwd: join(GO_DIR, target.name), env: ge.env });
  const info = JSON.parse(out.stdout) as { Time?: string };
  return (info.Time ?? "1970-01-01T00:00:00Z").replace(/\.\d+Z$/, "Z");
}

let prefetching: Promise<void> | undefined;

/**
 * Starts downloading the modules of every wrapper in the background, one wrapper at a time,
 * so a cold build fetches the next targets' modules while it compiles this one (the first
 * build that is not reused starts it). Failures are left to the builds to report.
 */
export function prefetchModules(cacheDir: string): Promise<void> {
  prefetching ??= (async () => {
    const ge = await goEnv(cacheDir);
    for (const t of Object.values(TARGETS) as GoTarget[]) {
      if (!t.module) continue;
      await run([ge.go, "mod", "download"], { cwd: join(GO_DIR, t.name), env: ge.env, allowFail: true });
    }
  })().catch(() => {});
  return prefetching;
}

/**
 * Copies each edited module out of the module cache into the wrapper's EDITED_DIR, applies the
 * edits there, and returns a go.mod for `-modfile` in scratch that replaces those modules with
 * the copies (go build -overlay may not replace files beneath GOMODCACHE). The replacement path
 * is recorded in the binary's build info, hence relative to the wrapper and free of scratch
 * names: equal inputs still give equal binaries.
 */
async function editedModFile(edits: SourceEdit[], wrapperDir: string, scratch: string, ge: GoEnv): Promise<string> {
  rmSync(join(wrapperDir, EDITED_DIR), { recursive: true, force: true });
  const replaces: string[] = [];
  for (const module of new Set(edits.map((e) => e.module))) {
    await run([ge.go, "mod", "download", module], { cwd: wrapperDir, env: ge.env });
    const { Dir, Version } = JSON.parse((await run([ge.go, "list", "-m", "-json", module], { cwd: wrapperDir, env: ge.env })).stdout) as { Dir?: string; Version?: string };
    if (!Dir) throw new Error(`${module} is not in the module cache after go mod download`);
    const relativeCopy = `./${EDITED_DIR}/${module.replaceAll("/", "_")}@${Version}`;
    const copy = join(wrapperDir, relativeCopy);
    cpSync(Dir, copy, { recursive: true });
    for (const e of edits.filter((x) => x.module === module)) {
      const path = join(copy, e.file);
      let text = readFileSync(path, "utf8");
      for (const { pattern, times } of e.remove) {
        const found = text.match(pattern)?.length ?? 0;
        if (found !== times) throw new Error(`edit of ${module}/${e.file}: ${pattern} matched ${found} times, expected ${times}`);
        text = text.replace(pattern, "");
      }
      rmSync(path, { force: true });
      writeFileSync(path, text);
    }
    replaces.push(`replace ${module} => ${relativeCopy}`);
  }
  const modFile = join(scratch, "go.mod");
  writeFileSync(modFile, `${readFileSync(join(wrapperDir, "go.mod"), "utf8")}\n${replaces.join("\n")}\n`);
  cpSync(join(wrapperDir, "go.sum"), join(scratch, "go.sum"));
  return modFile;
}

export interface BuiltTarget {
  paths: Record<string, string>;
  /** Identifies the inputs; equal keys mean equal binaries. */
  key: string;
}

/**
 * Builds a target's binaries into binDir, or reuses them when the stamp there matches the
 * inputs (version, go.mod, go.sum, our own sources, ldflags, go version, GOARCH).
 */
export async function buildGoTarget(target: GoTarget, cacheDir: string): Promise<BuiltTarget> {
  return withLock(join(cacheDir, "locks"), `go-${target.name}`, () => buildUnlocked(target, cacheDir));
}

async function buildUnlocked(target: GoTarget, cacheDir: string): Promise<BuiltTarget> {
  const ge = await goEnv(cacheDir);
  const dir = join(GO_DIR, target.name);
  const binDir = join(cacheDir, "bin");
  const goMod = readFileSync(join(dir, "go.mod"), "utf8");
  checkPin(target, goMod);
  // Recursive: a wrapper may hold a local module of its own (traefik's ext/).
  const sources = (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => !f.startsWith(`${EDITED_DIR}/`) && (/(?:^|\/)go\.(?:mod|sum)$/.test(f) || f.endsWith(".go")))
    .sort()
    .map((f) => `${f}:${sha256(readFileSync(join(dir, f)))}`);
  const inputs = {
    target: target.name,
    version: target.version,
    packages: target.packages,
    vars: target.vars ?? {},
    sources,
    go: ge.version,
    goarch: ge.env.GOARCH,
    flags: "-trimpath -s -w CGO_ENABLED=0",
    ...(target.edits ? { edits: target.edits.map((e) => ({ ...e, remove: e.remove.map((r) => ({ pattern: String(r.pattern), times: r.times })) })) } : {}),
  };
  const key = sha256(JSON.stringify(inputs));
  const stampFile = join(binDir, `.${target.name}.stamp`);
  const paths = Object.fromEntries(Object.keys(target.packages).map((b) => [b, join(binDir, b)]));
  const what = `${target.name} ${target.version} (${Object.keys(target.packages).join(", ")})`;
  const stamp = existsSync(stampFile) ? (JSON.parse(readFileSync(stampFile, "utf8")) as { key?: string }) : {};
  if (stamp.key === key && Object.values(paths).every((p) => existsSync(p))) {
    record({ what, action: "reused", ms: 0 });
    return { paths, key };
  }

  const t0 = performance.now();
  void prefetchModules(cacheDir);
  log(`building ${what} with ${ge.version}`);
  const buildDate = await moduleTime(target, ge);
  const ldflags = ["-s", "-w", ...Object.entries(target.vars ?? {}).flatMap(([k, v]) => ["-X", `${k}=${v.replaceAll("{buildDate}", buildDate)}`])];
  mkdirSync(binDir, { recursive: true });
  removeStaleScratch(binDir);
  const tmp = scratchDir(binDir, `.build-${target.name}`);
  try {
    const pkgs = Object.entries(target.packages);
    // One `go build` for all of a target's binaries: shared packages are compiled once.
    const out = pkgs.length === 1 ? join(tmp, pkgs[0]![0]) : `${tmp}/`;
    const modFile = target.edits ? [`-modfile=${await editedModFile(target.edits, dir, tmp, ge)}`] : [];
    await run([ge.go, "build", "-trimpath", ...modFile, "-ldflags", ldflags.join(" "), "-o", out, ...pkgs.map(([, p]) => p)], { cwd: dir, env: ge.env });
    for (const [bin] of pkgs) {
      if (!existsSync(join(tmp, bin))) throw new Error(`go build did not produce ${bin} (it names binaries after the package path)`);
    }
    for (const [bin] of pkgs) renameSync(join(tmp, bin), paths[bin]!);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(join(dir, EDITED_DIR), { recursive: true, force: true });
  }
  writeFileAtomic(stampFile, JSON.stringify({ key, ...inputs, buildDate, builtAt: new Date().toISOString() }, null, 2) + "\n");
  record({ what, action: "built", ms: performance.now() - t0 });
  return { paths, key };
}
