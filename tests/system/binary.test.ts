// The compiled executable, run as a separate process with no files beside it (issue 9).
// Compiles once into a temp dir with scripts/build.ts (the same flags as `bun run build`), then:
// probe routes, --version/--help, the healthcheck subcommand, SIGTERM with requests in flight,
// and the same binary inside a distroless-equivalent root filesystem as uid 65532 with no shell.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, type BuildResult } from "../../scripts/lib/build";
import { distrolessRootfs, NONROOT_UID, rootfsUnavailable } from "../../scripts/lib/rootfs";
import { freePort } from "../../scripts/lib/redis";
import { startService, type Service } from "../../scripts/lib/service";
import pkg from "../../package.json" with { type: "json" };

const CI = process.env.CI === "true";
const work = mkdtempSync(join(tmpdir(), "bun-k8s-binary-"));
// An empty working directory: the binary must need nothing beside it.
const cwd = join(work, "empty");
mkdirSync(cwd);
let built: BuildResult;
const running = new Set<Subprocess>();

beforeAll(async () => {
  built = await build({ outfile: join(work, "bin", "bun-k8s"), quiet: true });
}, 120_000);

afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

// Only what the binary is meant to read: no REDIS_*, no inherited shell env.
// PORT is set by startService.
function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { LOG_LEVEL: "warn", HOME: cwd, PATH: "/usr/bin:/bin", SHUTDOWN_DELAY_SECONDS: "0", ...extra };
}

function run(args: string[], env: Record<string, string> = { HOME: cwd }) {
  const r = Bun.spawnSync([built.outfile, ...args], { cwd, env, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

async function startBinary(extra: Record<string, string> = {}): Promise<Service> {
  const svc = await startService({ command: [built.outfile], cwd, env: baseEnv(extra), readyPath: "/health" });
  running.add(svc.proc);
  return svc;
}

describe("compiled binary", () => {
  test("build reports the baked version and revision", () => {
    expect(built.version).toBe(pkg.version);
    expect(built.revision).toMatch(/^([0-9a-f]{4,}|unknown)$/);
    expect(existsSync(built.outfile)).toBe(true);
    // Linked source maps are embedded; none is left beside the executable.
    expect(existsSync(`${built.outfile}.map`)).toBe(false);
  });

  test("--version prints the baked version and revision", () => {
    const r = run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(pkg.version);
    expect(r.stdout).toContain(built.revision);
  });

  test("--help lists the flags and the healthcheck subcommand", () => {
    const r = run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--port");
    expect(r.stdout).toContain("healthcheck");
    expect(r.stdout).toContain("SHUTDOWN_DELAY_SECONDS");
  });

  test("an unknown flag exits non-zero with a message", () => {
    const r = run(["--no-such-flag"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("--no-such-flag");
  });

  test("serves the probe routes, version, metrics, UI and the stress worker from the binary alone", async () => {
    const { url, proc } = await startBinary();
    const get = (path: string, init?: RequestInit) => fetch(url(path), init);

    expect((await get("/health")).status).toBe(200);
    expect((await get("/ready")).status).toBe(200);
    expect((await get("/ready/disable", { method: "POST" })).status).toBe(200);
    expect((await get("/ready")).status).toBe(503);
    expect((await get("/ready/enable", { method: "POST" })).status).toBe(200);
    expect((await get("/ready")).status).toBe(200);
    expect((await get("/health/disable", { method: "POST" })).status).toBe(200);
    expect((await get("/health")).status).toBe(503);
    expect((await get("/health/enable", { method: "POST" })).status).toBe(200);
    expect((await get("/health")).status).toBe(200);

    const version = (await (await get("/version")).json()) as { version: string; revision: string };
    expect(version).toMatchObject({ version: pkg.version, revision: built.revision });

    const root = await get("/", { headers: { accept: "application/json" } });
    expect(root.status).toBe(200);
    const metrics = await get("/metrics");
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("# TYPE");
    expect((await get("/openapi/json")).status).toBe(200);
    // Embedded UI assets (imported as text).
    const ui = await get("/ui/app.js");
    expect(ui.status).toBe(200);
    expect((await ui.text()).length).toBeGreaterThan(100);
    // The CPU stress worker is an extra entrypoint inside the executable.
    const stress = await get("/stress?seconds=1");
    expect(stress.status).toBe(200);

    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  }, 30_000);

  test("the cluster view's Kubernetes client, an entry point of its own, loads from inside the binary", async () => {
    // An API server address where nothing listens: the reason can only come from the loaded client.
    const kubeconfig = join(work, "kubeconfig");
    await Bun.write(kubeconfig, JSON.stringify({
      apiVersion: "v1", kind: "Config", "current-context": "c",
      clusters: [{ name: "c", cluster: { server: `https://127.0.0.1:${await freePort()}` } }],
      users: [{ name: "u", user: { token: "t" } }],
      contexts: [{ name: "c", context: { cluster: "c", user: "u", namespace: "demo" } }],
    }));
    const { url, proc } = await startBinary({ CLUSTER_VIEW: "true", KUBECONFIG: kubeconfig });
    const res = await fetch(url("/cluster"));
    expect(res.status).toBe(503);
    const body = (await res.json()) as { detail: { reason: string } };
    expect(body.detail.reason).toMatch(/did not answer/);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  }, 30_000);

  test("healthcheck exits 0 against a live server, 1 when unhealthy or absent", async () => {
    const { port, url, proc } = await startBinary();
    expect(run(["healthcheck"], { HOME: cwd, PORT: String(port) }).code).toBe(0);
    expect(run(["healthcheck", "--port", String(port)], { HOME: cwd }).code).toBe(0);
    await fetch(url("/health/disable"), { method: "POST" });
    expect(run(["healthcheck", "--port", String(port)], { HOME: cwd }).code).toBe(1);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);

    const nobody = await freePort();
    const started = performance.now();
    expect(run(["healthcheck", "--port", String(nobody)], { HOME: cwd }).code).toBe(1);
    expect(performance.now() - started).toBeLessThan(5000);
  }, 30_000);

  test("SIGTERM with requests in flight: readiness 503, every request answered, exit 0", async () => {
    const { url, proc } = await startBinary({ SHUTDOWN_DELAY_SECONDS: "1", SHUTDOWN_TIMEOUT_SECONDS: "10" });
    const inflight = Array.from({ length: 8 }, () => fetch(url("/delay/2")).then(async (r) => ({ status: r.status, body: await r.text() })));
    await Bun.sleep(200);
    const signalled = performance.now();
    proc.kill("SIGTERM");
    await Bun.sleep(200);
    // During the delay: still serving, but out of the endpoints.
    expect((await fetch(url("/ready"))).status).toBe(503);
    expect((await fetch(url("/health"))).status).toBe(200);
    const results = await Promise.all(inflight);
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ delayed_seconds: 2 });
    }
    expect(await proc.exited).toBe(0);
    expect(performance.now() - signalled).toBeLessThan(10_000);
  }, 30_000);
});

// The runtime stage in miniature: Debian's base-files netbase tzdata ca-certificates libc6
// libssl3, passwd with nonroot, the binary at /app/bun-k8s, no shell; entered with unshare.
const UNSHARE = Bun.which("unshare");
const distrolessSkip = rootfsUnavailable() ?? (UNSHARE ? undefined : "unshare (util-linux) is not installed");
describe("binary in a distroless-equivalent root filesystem", () => {
  if (distrolessSkip) {
    if (CI) {
      test("distroless rootfs prerequisites", () => {
        throw new Error(`CI=true but the distroless rootfs test cannot run: ${distrolessSkip}`);
      });
    } else {
      console.warn(`skipping distroless rootfs test: ${distrolessSkip}`);
      test.skip("runs as uid 65532 with no shell (skipped: see warning)", () => {});
    }
    return;
  }

  let rootfs = "";
  beforeAll(async () => {
    const cached = await distrolessRootfs();
    rootfs = join(work, "rootfs");
    // Hard links: cheap, and the cached tree is never written to (only /app gets a new file).
    cpSync(cached, rootfs, { recursive: true, verbatimSymlinks: true });
    const target = join(rootfs, "app", "bun-k8s");
    try {
      linkSync(built.outfile, target);
    } catch {
      cpSync(built.outfile, target);
    }
  }, 120_000);

  const unshare = (args: string[]) => [
    UNSHARE!, "--mount", "--pid", "--fork", `--root=${rootfs}`, "--mount-proc=/proc",
    `--setuid=${NONROOT_UID}`, `--setgid=${NONROOT_UID}`, ...args,
  ];

  test("the root filesystem has no shell", () => {
    for (const shell of ["bin/sh", "bin/bash", "usr/bin/sh", "bin/busybox"]) expect(existsSync(join(rootfs, shell))).toBe(false);
    const r = Bun.spawnSync(unshare(["/bin/sh", "-c", "true"]), { env: { PATH: "/" }, stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode).not.toBe(0);
  });

  test("serves as uid 65532, runs the stress worker, healthcheck works, SIGTERM as PID 1 exits 0", async () => {
    // unshare passes its environment (PORT included) through to the binary.
    const { port, proc } = await startService({
      command: unshare(["/app/bun-k8s"]),
      env: { LOG_LEVEL: "warn", HOME: "/home/nonroot", SHUTDOWN_DELAY_SECONDS: "1" },
      readyPath: "/health",
    });
    running.add(proc);

    // unshare --fork: its only child is the binary, PID 1 in its own PID namespace.
    const children = readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, "utf8").trim().split(/\s+/);
    expect(children).toHaveLength(1);
    const pid = Number(children[0]);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    expect(status).toMatch(new RegExp(`^Uid:\\s+${NONROOT_UID}\\s+${NONROOT_UID}`, "m"));
    expect(status).toMatch(new RegExp(`^Gid:\\s+${NONROOT_UID}\\s+${NONROOT_UID}`, "m"));
    expect(readFileSync(`/proc/${pid}/status`, "utf8")).toMatch(/^NSpid:\s+\d+\s+1$/m);

    expect((await fetch(`http://127.0.0.1:${port}/stress?seconds=1`)).status).toBe(200);
    const info = (await (await fetch(`http://127.0.0.1:${port}/version`)).json()) as { version: string };
    expect(info.version).toBe(pkg.version);

    // The healthcheck subcommand inside the same root filesystem (as a HEALTHCHECK would run it).
    const hc = Bun.spawnSync(unshare(["/app/bun-k8s", "healthcheck"]), { env: { PORT: String(port) }, stdout: "pipe", stderr: "pipe" });
    expect(hc.exitCode).toBe(0);

    // SIGTERM to the binary itself: as PID 1 it would be ignored without the service's handler.
    const inflight = fetch(`http://127.0.0.1:${port}/delay/2`).then((r) => r.status);
    await Bun.sleep(200);
    process.kill(pid, "SIGTERM");
    expect(await inflight).toBe(200);
    expect(await proc.exited).toBe(0);
  }, 60_000);
});
