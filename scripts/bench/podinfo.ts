// podinfo for `bun run bench`: the Go workload bun-k8s is compared with, built once from a pinned
// version with `go install` and cached under .artifacts/bench/ (a second run does not rebuild).
// Without Go the podinfo rows are skipped with the reason; nothing else is fetched.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../lib/repo";

export const PODINFO_MODULE = "github.com/stefanprodan/podinfo/cmd/podinfo";
// podinfo's go.mod says `module github.com/stefanprodan/podinfo` (no /v6), so its v6.x.y tags are
// not Go module versions and `@v6.14.1` cannot resolve; the module proxy serves commits as
// pseudo-versions. This one is the newest it has: the 6.9.2 release (pkg/version says 6.9.2).
export const PODINFO_VERSION = "v1.8.1-0.20250910200901-e86405a8674e";
export const PODINFO_RELEASE = "6.9.2";
const GOBIN = join(ROOT, ".artifacts", "bench", `podinfo-${PODINFO_RELEASE}-e86405a8674e`);

export type PodinfoBinary = { ok: true; path: string; version: string; go: string; built: boolean } | { ok: false; reason: string };

function findGo(): string | null {
  return Bun.which("go") ?? (existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : null);
}

/** The cached podinfo binary, built with `go install <module>@<version>` when it is missing. */
export function ensurePodinfo(log: (s: string) => void = () => {}): PodinfoBinary {
  const go = findGo();
  const path = join(GOBIN, "podinfo");
  const goVersion = go ? Bun.spawnSync([go, "version"], { stdout: "pipe", stderr: "pipe" }).stdout.toString().trim() : "";
  if (existsSync(path)) return { ok: true, path, version: PODINFO_RELEASE, go: goVersion || "unknown (cached binary)", built: false };
  if (!go) return { ok: false, reason: "Go is not installed (no `go` on PATH, no /usr/local/go/bin/go): podinfo rows skipped" };
  mkdirSync(GOBIN, { recursive: true });
  log(`building podinfo ${PODINFO_RELEASE} (${PODINFO_VERSION}) with ${goVersion} (go install, cached in .artifacts/bench/)`);
  const r = Bun.spawnSync([go, "install", `${PODINFO_MODULE}@${PODINFO_VERSION}`], {
    env: { ...process.env, GOBIN, CGO_ENABLED: "0" },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0 || !existsSync(path)) {
    const tail = r.stderr.toString().trim().split("\n").slice(-5).join("\n");
    return { ok: false, reason: `go install ${PODINFO_MODULE}@${PODINFO_VERSION} failed: podinfo rows skipped\n${tail}` };
  }
  return { ok: true, path, version: PODINFO_RELEASE, go: goVersion, built: true };
}

/** podinfo's arguments for the bench: loopback, its default log level, Redis for /cache/{key}. */
export function podinfoArgs(port: number, redisUrl: string): string[] {
  const host = new URL(redisUrl).host;
  return ["--host", "127.0.0.1", "--port", String(port), "--port-metrics", "0", "--level", "info", "--cache-server", `tcp://${host}`];
}
