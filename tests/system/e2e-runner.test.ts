// Tests of the end-to-end suite itself: it passes against the real service, fails (exit 1, with
// a summary) against a wrong one, and skips or fails the cluster part as asked. Loopback only.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { findOnPath } from "../../scripts/lib/prereqs";
import { freePort } from "../../scripts/lib/redis";
import { parseSuiteArgs } from "../../scripts/lib/e2e/run";

const ROOT = resolve(import.meta.dir, "../..");
const RUNNER = join(ROOT, "scripts/lib/e2e/run.ts");
// A full HTTP run takes several seconds (a 1 s /stress among them), more on a loaded machine; a test
// timeout would kill the service under test and fail every test after it.
setDefaultTimeout(60_000);
const SUMMARY = /^(\d+) passed, (\d+) failed, (\d+) skipped \(/m;

async function runner(args: string[], extraEnv: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "bun-k8s-e2e-kube-"));
  // An empty kubeconfig: never talk to whatever cluster the developer's shell points at.
  writeFileSync(join(dir, "config"), "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n");
  try {
    const proc = Bun.spawn([process.execPath, "run", RUNNER, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH!, HOME: dir, KUBECONFIG: join(dir, "config"), ...extraEnv },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    const m = SUMMARY.exec(stdout);
    return { code, stdout, stderr, passed: Number(m?.[1] ?? -1), failed: Number(m?.[2] ?? -1), skipped: Number(m?.[3] ?? -1) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("e2e runner against the real service (source, real Redis)", () => {
  let service: ReturnType<typeof Bun.spawn>;
  let baseUrl = "";

  beforeAll(async () => {
    const port = await freePort();
    const redisUrl = process.env.TEST_REDIS_URL!;
    service = Bun.spawn([process.execPath, "run", join(ROOT, "src/main.ts")], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH!,
        PORT: String(port),
        HOST: "127.0.0.1",
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: `e2e-runner-${port}:`,
        HEARTBEAT_INTERVAL_SECONDS: "1",
        SHUTDOWN_DELAY_SECONDS: "0",
        MAX_STRESS_SECONDS: "2",
        LOG_LEVEL: "error",
      },
      stdout: "ignore",
      stderr: "inherit",
    });
    baseUrl = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      const r = await fetch(`${baseUrl}/visits/count`).catch(() => null);
      if (r?.status === 200) return;
      await Bun.sleep(50);
    }
    throw new Error("service did not start");
  });

  afterAll(async () => {
    service?.kill("SIGTERM");
    await service?.exited;
  });

  test("HTTP part passes with one server expected; cluster part is skipped with the reason", async () => {
    const r = await runner(["--single-process", "--expect-servers", "1"], { BASE_URL: baseUrl });
    expect(r.failed, r.stdout).toBe(0);
    expect(r.code).toBe(0);
    expect(r.passed).toBeGreaterThanOrEqual(15);
    expect(r.stdout).toContain("SKIP readiness: a pod that disables readiness");
    expect(r.stdout).toContain("needs kubectl and a reachable cluster: ");
    expect(r.skipped).toBeGreaterThanOrEqual(5);
  });

  test("expecting two servers from one process fails the visit check and exits 1", async () => {
    const r = await runner(["--only", "http", "--expect-servers", "2"], { BASE_URL: baseUrl });
    expect(r.code).toBe(1);
    expect(r.failed).toBeGreaterThanOrEqual(1);
    expect(r.stdout).toMatch(/FAIL GET \/visits: 60 sequential[^\n]*\n\s+expected exactly 2 distinct servers/);
  });

  test("--require-cluster turns a missing cluster into failures", async () => {
    const r = await runner(["--only", "cluster", "--require-cluster"], { BASE_URL: baseUrl });
    expect(r.code).toBe(1);
    expect(r.passed).toBe(0);
    expect(r.failed).toBeGreaterThanOrEqual(5);
    expect(r.stdout).toContain("(--require-cluster)");
  });

  const kubectl = findOnPath("kubectl", process.env.PATH);
  test.skipIf(!kubectl && process.env.CI !== "true")("a context that does not exist is reported by name in the skip reason", async () => {
    if (!kubectl) throw new Error("kubectl is required in CI");
    const r = await runner(["--only", "cluster", "--context", "e2e-no-such-context"], { BASE_URL: baseUrl });
    expect(r.code).toBe(1); // nothing passed
    expect(r.skipped).toBe(5);
    expect(r.stdout).toContain("no reachable cluster for kubectl context e2e-no-such-context");
  });
});

describe("e2e runner against a wrong service", () => {
  test("a server that answers 200 {} everywhere fails most checks and exits 1", async () => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => Response.json({}),
    });
    try {
      const r = await runner(["--only", "http", "--single-process", "--expect-servers", "1"], { BASE_URL: `http://127.0.0.1:${server.port}` });
      expect(r.code).toBe(1);
      expect(r.failed).toBeGreaterThanOrEqual(10);
      expect(r.stdout).toContain("FAIL GET / greets");
      expect(r.stdout).toContain("FAIL kv: write, read, list, delete");
      expect(r.stdout).toContain("FAIL auth:");
    } finally {
      server.stop(true);
    }
  });

  test("nothing listening: the preflight fails once, exit 1", async () => {
    const port = await freePort();
    const r = await runner([], { BASE_URL: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("FAIL preflight");
    expect(r.failed).toBe(1);
  });

  test("usage errors exit 2", async () => {
    expect((await runner([])).code).toBe(2);
    expect((await runner(["--only", "everything"], { BASE_URL: "http://127.0.0.1:1" })).code).toBe(2);
  });
});

describe("parseSuiteArgs", () => {
  test("env and flags", () => {
    const o = parseSuiteArgs(["--hpa", "--namespace=demo"], { BASE_URL: "http://127.0.0.1:8080", KUBE_CONTEXT: "kind-bun-k8s", E2E_EXPECT_SERVERS: "3" });
    expect(o).toMatchObject({ baseUrl: "http://127.0.0.1:8080", context: "kind-bun-k8s", namespace: "demo", hpa: true, expectServers: 3, username: "admin", password: "admin" });
    expect(() => parseSuiteArgs([], {})).toThrow("BASE_URL");
    expect(() => parseSuiteArgs(["--base-url", "ftp://x"], {})).toThrow("http(s)");
    expect(() => parseSuiteArgs(["--expect-servers", "0"], { BASE_URL: "http://127.0.0.1:1" })).toThrow("--expect-servers");
    expect(parseSuiteArgs(["--only", "hpa"], { BASE_URL: "http://127.0.0.1:1" }).hpa).toBe(true);
  });
});
