#!/usr/bin/env bun
// Proves the built images work in a real containerd, without a cluster:
//
//   bun run scripts/local-cluster/build/test-images.ts
//
// Builds (or reuses) the image archives, starts a private containerd (its own root, state and
// socket in a scratch directory; CRI plugin off), imports every archive twice (the second time
// must find them all present), then runs each image with `ctr run` as the cluster will:
//   pause     PID 1 as 65535, exits 0 on SIGTERM
//   redis     as 999 on a read-only root with /data and /tmp mounted, with the manifest's
//             flags; the readiness probe's `sh -c "redis-cli -h 127.0.0.1 ping | grep -q PONG"`
//             passes; SIGTERM stops it with exit 0
//   busybox   the local-path-provisioner helper's mkdir/rm
//   coredns, metrics-server, local-path-provisioner   their binaries start and print a version
// and stops containerd and removes everything it created.
//
// Without root, containerd, ctr or runc it skips with a message, except with CI=true.
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as V from "../versions";
import { listImages } from "./containerd";
import { buildImages, CACHE_DIR, importImages } from "./index";
import { removeTree, run, scratchDir, steps } from "./util";

const CI = process.env.CI === "true";
const failures: string[] = [];
const figures: Record<string, string> = {};

function skipOrFail(reason: string): never {
  if (CI) {
    console.error(`test-images FAILED: CI=true but the test cannot run: ${reason}`);
    process.exit(1);
  }
  console.log(`test-images skipped: ${reason}`);
  process.exit(0);
}

function check(ok: boolean, what: string, detail = ""): void {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail ? `: ${detail}` : ""}`);
  if (!ok) failures.push(what);
}

if (process.getuid?.() !== 0) skipOrFail("needs root (containerd, mounts)");
for (const tool of ["containerd", "ctr", "containerd-shim-runc-v2", "runc"]) {
  if (!Bun.which(tool) && !existsSync(`/usr/sbin/${tool}`)) skipOrFail(`${tool} is not installed (Debian: apt-get install -y containerd runc)`);
}

const dir = scratchDir(join(CACHE_DIR, "tmp"), "containerd-test");
const socket = join(dir, "containerd.sock");
const ctrBase = ["ctr", "--address", socket, "-n", "k8s.io"];
let containerd: ReturnType<typeof Bun.spawn> | undefined;

async function startContainerd(): Promise<void> {
  const config = [
    "version = 2",
    `root = ${JSON.stringify(join(dir, "root"))}`,
    `state = ${JSON.stringify(join(dir, "state"))}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    "[grpc]",
    `  address = ${JSON.stringify(socket)}`,
    "[ttrpc]",
    `  address = ${JSON.stringify(`${socket}.ttrpc`)}`,
    "[debug]",
    `  address = ${JSON.stringify(join(dir, "debug.sock"))}`,
    "",
  ].join("\n");
  writeFileSync(join(dir, "config.toml"), config);
  containerd = Bun.spawn(["containerd", "--config", join(dir, "config.toml")], {
    stdout: Bun.file(join(dir, "containerd.log")),
    stderr: Bun.file(join(dir, "containerd.log")),
  });
  const t0 = performance.now();
  while (performance.now() - t0 < 20_000) {
    if ((await run([...ctrBase, "version"], { allowFail: true })).code === 0) return;
    await Bun.sleep(100);
  }
  throw new Error(`containerd did not answer on ${socket} within 20 s:\n${readFileSync(join(dir, "containerd.log"), "utf8").slice(-2000)}`);
}

/** `ctr run` in the foreground; resolves with its exit code and output. */
function ctrRun(args: string[]): { exited: Promise<{ code: number; out: string }> } {
  const proc = Bun.spawn([...ctrBase, "run", "--rm", ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const exited = Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]).then(([code, o, e]) => ({ code, out: (o + e).trim() }));
  return { exited };
}

async function taskPid(id: string, timeoutMs = 10_000): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    const out = (await run([...ctrBase, "task", "ls"], { allowFail: true })).stdout;
    const line = out.split("\n").find((l) => l.split(/\s+/)[0] === id && /RUNNING/.test(l));
    if (line) return Number(line.split(/\s+/)[1]);
    await Bun.sleep(100);
  }
  throw new Error(`task ${id} is not running after ${timeoutMs} ms`);
}

function procStatus(pid: number): { uid?: string; nspid?: string } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return { uid: /^Uid:\s+(\d+)/m.exec(status)?.[1], nspid: /^NSpid:.*\s(\d+)$/m.exec(status)?.[1] };
}

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

async function main(): Promise<void> {
  let t0 = performance.now();
  const archives = await buildImages();
  figures["build or reuse the archives"] = `${Math.round(performance.now() - t0)} ms`;

  await startContainerd();
  t0 = performance.now();
  await importImages(archives, socket);
  figures["first import (all images)"] = `${Math.round(performance.now() - t0)} ms`;
  const before = steps.length;
  await importImages(archives, socket);
  check(steps.slice(before).every((s) => s.action === "present"), "second import finds every image present (same digest)");
  const listed = await listImages(socket);
  for (const a of archives) check(listed.get(a.ref) === a.digest, `ctr images ls: ${a.ref}`, a.digest.slice(0, 19));

  // pause: PID 1 as 65535, exit 0 on SIGTERM.
  {
    const id = `pause-test-${process.pid}`;
    const r = ctrRun([V.PAUSE_IMAGE, id]);
    const pid = await taskPid(id);
    const s = procStatus(pid);
    check(s.uid === "65535" && s.nspid === "1", "pause runs as PID 1, uid 65535", `uid ${s.uid} nspid ${s.nspid}`);
    t0 = performance.now();
    await run([...ctrBase, "task", "kill", "-s", "SIGTERM", id]);
    const { code, out } = await r.exited;
    check(code === 0, "pause exits 0 on SIGTERM", `exit ${code} in ${Math.round(performance.now() - t0)} ms ${out}`);
  }

  // redis: as the Deployment runs it.
  {
    const id = `redis-test-${process.pid}`;
    const port = await freePort();
    // The PVC and the emptyDir: host directories, as the kubelet mounts them (ctr drops a
    // tmpfs mode= option, so tmpfs would be root-owned 0755).
    const mounts: string[] = [];
    for (const [name, dst, mode, uid] of [["data", "/data", 0o755, 999], ["tmp", "/tmp", 0o1777, 0]] as const) {
      const host = join(dir, `redis-${name}`);
      mkdirSync(host, { recursive: true });
      chmodSync(host, mode);
      chownSync(host, uid, uid);
      mounts.push("--mount", `type=bind,src=${host},dst=${dst},options=rbind:rw`);
    }
    const r = ctrRun([
      // The image's user (999:999) applies; ctr run has no --user.
      "--net-host", "--read-only", "--seccomp", ...mounts,
      "--env", "REDISCLI_AUTH=test-password",
      V.REDIS_IMAGE, id,
      "redis-server", "--port", String(port), "--requirepass", "test-password", "--appendonly", "yes", "--appendfsync", "everysec",
      "--dir", "/data", "--save", "", "--maxmemory", "192mb", "--maxmemory-policy", "noeviction", "--maxclients", "1000",
    ]);
    const pid = await taskPid(id);
    check(procStatus(pid).uid === "999", "redis-server runs as 999");
    let probe = { code: -1, stdout: "", stderr: "" };
    const t1 = performance.now();
    while (performance.now() - t1 < 10_000) {
      probe = await run([...ctrBase, "task", "exec", "--exec-id", `probe-${Date.now()}`, id, "sh", "-c", `redis-cli -h 127.0.0.1 -p ${port} ping | grep -q PONG`], { allowFail: true });
      if (probe.code === 0) break;
      await Bun.sleep(200);
    }
    check(probe.code === 0, "readiness probe (sh, redis-cli, grep) passes", `exit ${probe.code} ${probe.stderr.trim()}`);
    const set = await run([...ctrBase, "task", "exec", "--exec-id", `set-${Date.now()}`, id, "redis-cli", "-p", String(port), "set", "k", "v"], { allowFail: true });
    check(set.stdout.trim() === "OK", "a write succeeds (append-only file on /data)", set.stdout.trim() || set.stderr.trim());
    const version = await run([...ctrBase, "task", "exec", "--exec-id", `v-${Date.now()}`, id, "redis-server", "--version"], { allowFail: true });
    figures["redis-server --version"] = version.stdout.trim();
    await run([...ctrBase, "task", "kill", "-s", "SIGTERM", id]);
    const { code, out } = await r.exited;
    check(code === 0, "redis exits 0 on SIGTERM", `exit ${code}`);
    check(/ready to exit, bye bye/i.test(out), "redis logged a clean shutdown");
  }

  // busybox: what local-path-provisioner's helper pod does.
  {
    const r = await ctrRun([V.BUSYBOX_IMAGE, `busybox-test-${process.pid}`, "sh", "-c", 'VOL_DIR=/tmp/pvc-x; mkdir -m 0777 -p "$VOL_DIR" && rm -rf "$VOL_DIR" && echo done']).exited;
    check(r.code === 0 && r.out.endsWith("done"), "busybox: sh, mkdir -m, rm -rf", r.out);
  }

  // The Go images: the binary starts from the image's entrypoint/cmd.
  for (const [image, args, expect] of [
    [V.COREDNS_IMAGE, ["/coredns", "-version"], new RegExp(`CoreDNS-${V.COREDNS_VERSION.slice(1).replaceAll(".", "\\.")}`)],
    [V.METRICS_SERVER_IMAGE, ["/metrics-server", "--version"], new RegExp(V.METRICS_SERVER_VERSION.replaceAll(".", "\\."))],
    [V.LOCAL_PATH_PROVISIONER_IMAGE, ["local-path-provisioner", "--version"], new RegExp(V.LOCAL_PATH_PROVISIONER_VERSION.replaceAll(".", "\\."))],
  ] as const) {
    const r = await ctrRun([image, `go-image-test-${process.pid}`, ...args]).exited;
    check(r.code === 0 && expect.test(r.out), `${image} starts: ${args.join(" ")}`, r.out.split("\n")[0]);
  }
}

let crashed: unknown;
const started = performance.now();
try {
  mkdirSync(dir, { recursive: true });
  await main();
} catch (err) {
  crashed = err;
} finally {
  for (const t of (await run([...ctrBase, "task", "ls", "-q"], { allowFail: true })).stdout.split("\n").filter(Boolean)) {
    await run([...ctrBase, "task", "kill", "-s", "SIGKILL", t], { allowFail: true });
    await run([...ctrBase, "task", "delete", "-f", t], { allowFail: true });
  }
  containerd?.kill("SIGTERM");
  await containerd?.exited;
  removeTree(dir);
}
figures["total"] = `${((performance.now() - started) / 1000).toFixed(1)} s`;
console.log("\nfigures:");
for (const [k, v] of Object.entries(figures)) console.log(`  ${k}: ${v}`);
if (crashed) {
  console.error(`\ntest-images FAILED: ${crashed instanceof Error ? crashed.message : crashed}`);
  process.exit(1);
}
if (failures.length) {
  console.error(`\ntest-images FAILED: ${failures.length} check(s): ${failures.join("; ")}`);
  process.exit(1);
}
console.log("\ntest-images passed");
