// Taskfile.yml, run with the real go-task (`task`): every task is listed with its description,
// renders to one `bun run` command that exists, and really runs the script it wraps. The cluster
// scripts behind the tasks are run as processes too (PATH without the tools, a kubeconfig
// without a context). go-task is required under CI=true (.ci/run installs it) and skipped without.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { kindSettings, namespaceManifest, overlayImage, overlayNames } from "../../scripts/lib/cluster-settings";
import { checkTools, findOnPath } from "../../scripts/lib/prereqs";
import { durationSeconds } from "../../scripts/lib/kube";
import { ROOT } from "../../scripts/lib/repo";
import { CI, requireTool } from "../helpers/tools";

// `go install` puts task in ~/go/bin, which need not be on PATH.
// Each task run starts go-task and often bun: seconds apiece on a loaded machine.
setDefaultTimeout(60_000);
const TASK = requireTool("task", "go install github.com/go-task/task/v3/cmd/task@v3.54.0", [join(homedir(), "go/bin/task")]);
const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { scripts: Record<string, string> };
const kubectlPath = findOnPath("kubectl", process.env.PATH);

// Every task named in issue 4.
const REQUIRED = [
  "up", "down", "clean", "deploy", "status", "logs", "scale", "restart", "rollout-status", "rollback",
  "hpa-status", "redis-status", "port-forward", "build", "image", "dev", "start", "test", "test-e2e", "bench", "default",
];
const CLUSTER_TASKS = ["up", "down", "clean", "deploy", "status", "logs", "scale", "restart", "rollout-status", "rollback", "hpa-status", "redis-status", "port-forward", "image"];

type Run = { code: number; stdout: string; stderr: string };
function spawn(argv: string[], env: Record<string, string | undefined>): Run {
  const r = Bun.spawnSync(argv, { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}
// Plain text: go-task colours its output when it sees CI=true.
const task = (args: string[], env: Record<string, string | undefined> = process.env) => {
  const r = spawn([TASK!, ...args], { ...env, NO_COLOR: "1" });
  const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");
  return { code: r.code, stdout: plain(r.stdout), stderr: plain(r.stderr) };
};
const k8s = (args: string[], env: Record<string, string | undefined>) => spawn([process.execPath, "run", join(ROOT, "scripts/k8s.ts"), ...args], env);

/** Runs fn with a kubeconfig that has no context, in a fresh HOME that is removed after. */
function withoutContext(fn: (dir: string, kubeconfig: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), "bun-k8s-kube-"));
  try {
    const kubeconfig = join(dir, "config");
    writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n");
    fn(dir, kubeconfig);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The command a task runs, as go-task renders it (`task --dry`), with the variables given. */
function rendered(name: string, vars: string[] = []): string {
  const r = task(["--dry", name, ...vars]);
  expect(r.code, `task --dry ${name}: ${r.stderr}`).toBe(0);
  const lines = r.stderr.split("\n").filter((l) => l.startsWith(`task: [${name}] `));
  expect(lines, `task ${name} runs one command`).toHaveLength(1);
  return lines[0]!.slice(`task: [${name}] `.length).trim();
}

/** The commands scripts/k8s.ts offers, from its own help. */
function k8sCommands(): string[] {
  const help = k8s(["help"], { PATH: process.env.PATH });
  expect(help.code).toBe(0);
  return [...help.stdout.matchAll(/^  ([a-z][a-z-]*) {2,}/gm)].map((m) => m[1]!);
}

describe.skipIf(!TASK)("go-task runs the Taskfile", () => {
  test("task --list shows every task of the issue, each with a description", () => {
    const r = task(["--list-all", "--json"]);
    expect(r.code).toBe(0);
    const tasks = (JSON.parse(r.stdout) as { tasks: Array<{ name: string; desc: string }> }).tasks;
    const names = tasks.map((t) => t.name);
    for (const name of REQUIRED) expect(names).toContain(name);
    for (const t of tasks) expect({ task: t.name, described: t.desc.length > 5 }).toEqual({ task: t.name, described: true });
    const listed = task(["--list"]);
    expect(listed.code).toBe(0);
    for (const t of tasks) expect(listed.stdout).toContain(t.desc);
  });

  test("plain `task` (the default task) prints the same list", () => {
    const r = task([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("task: Available tasks for this project:");
    for (const name of CLUSTER_TASKS) expect(r.stdout).toMatch(new RegExp(`^\\* ${name}:`, "m"));
  });

  test("every task renders to one `bun run` of a package.json script or a scripts/k8s.ts command of its own name", () => {
    const commands = k8sCommands();
    const tasks = (JSON.parse(task(["--list-all", "--json"]).stdout) as { tasks: Array<{ name: string }> }).tasks;
    for (const { name } of tasks) {
      if (name === "default") continue;
      const line = rendered(name);
      const m = /^bun run (\S+)(?: (.*))?$/.exec(line);
      expect(m, `task ${name}: "${line}" is not "bun run <script> ..."`).not.toBeNull();
      if (m![1] === "scripts/k8s.ts") {
        expect(CLUSTER_TASKS).toContain(name);
        expect(m![2]!.split(" ")[0]).toBe(name);
        expect(commands).toContain(name);
      } else {
        expect(Object.keys(pkg.scripts), `task ${name}: package.json has script "${m![1]}"`).toContain(m![1]!);
      }
    }
    expect(rendered("test-e2e")).toStartWith("bun run test:e2e");
  });

  test("task variables and CLI_ARGS reach the scripts", () => {
    expect(rendered("scale", ["N=5"])).toBe("bun run scripts/k8s.ts scale 5");
    expect(rendered("rollback", ["REVISION=3"])).toBe("bun run scripts/k8s.ts rollback --revision=3");
    expect(rendered("port-forward", ["PORT=9000"])).toBe("bun run scripts/k8s.ts port-forward --port=9000");
    expect(rendered("image", ["TAG=1.0.0"])).toBe("bun run scripts/k8s.ts image --tag=1.0.0");
    expect(rendered("deploy")).toBe("bun run scripts/k8s.ts deploy kind");
    expect(rendered("deploy", ["OVERLAY=high-replica"])).toBe("bun run scripts/k8s.ts deploy high-replica");
    expect(rendered("logs", ["--", "--follow"])).toBe("bun run scripts/k8s.ts logs --follow");
  });

  test("a real `task status` without kubectl on PATH stops with the missing prerequisite", () => {
    // PATH holds only bun: the task and the script run, kubectl is missing.
    const dir = mkdtempSync(join(tmpdir(), "bun-k8s-task-"));
    try {
      symlinkSync(process.execPath, join(dir, "bun"));
      const r = task(["status"], { PATH: dir, HOME: dir });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("missing prerequisite for status: kubectl (not found on PATH)");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.skipIf(!kubectlPath && !CI)("real `task scale` and `task deploy` reach the script's own checks (an unset N, an unknown overlay)", () => {
    if (!kubectlPath) throw new Error("kubectl is required in CI");
    withoutContext((dir, kubeconfig) => {
      const env = { PATH: `${dirname(process.execPath)}:${dirname(kubectlPath)}`, HOME: dir, KUBECONFIG: kubeconfig };
      const scale = task(["scale"], env);
      expect(scale.code).not.toBe(0);
      expect(scale.stderr).toContain("scale needs a replica count");
      const deploy = task(["deploy", "OVERLAY=nope"], env);
      expect(deploy.code).not.toBe(0);
      expect(deploy.stderr).toContain('unknown overlay "nope": expected one of docker-desktop, high-replica, kind');
    });
  });
});

describe("settings read from the manifests", () => {
  test("kind cluster name, context and URL come from kustomize/kind/cluster.yaml and the kind overlay", async () => {
    const kind = kindSettings();
    const config = parse(await Bun.file(join(ROOT, "kustomize/kind/cluster.yaml")).text()) as {
      name: string;
      nodes: Array<{ extraPortMappings?: Array<{ containerPort: number; hostPort: number }> }>;
    };
    expect(kind.name).toBe(config.name);
    expect(kind.context).toBe(`kind-${config.name}`);
    const mapping = config.nodes.flatMap((n) => n.extraPortMappings ?? []).find((m) => m.containerPort === kind.nodePort);
    expect(mapping, "the kind overlay's nodePort is mapped to the host").toBeDefined();
    expect(kind.url).toBe(`http://127.0.0.1:${mapping!.hostPort}`);
  });

  test("each overlay's image is bun-k8s with the tag set by its images: entry", async () => {
    expect(overlayNames()).toEqual(expect.arrayContaining(["kind", "docker-desktop", "high-replica"]));
    for (const overlay of overlayNames()) {
      const k = parse(await Bun.file(join(ROOT, "kustomize/overlays", overlay, "kustomization.yaml")).text()) as { images?: Array<{ name: string; newTag: string }> };
      const entry = k.images?.find((i) => i.name === "bun-k8s");
      expect(entry, `${overlay} sets the bun-k8s image tag`).toBeDefined();
      expect(overlayImage(overlay)).toBe(`bun-k8s:${entry!.newTag}`);
    }
  });
});

describe("prerequisite checks", () => {
  test("checkTools finds executables on the given PATH only", () => {
    const dir = mkdtempSync(join(tmpdir(), "bun-k8s-path-"));
    try {
      writeFileSync(join(dir, "kind"), "#!/bin/sh\n");
      chmodSync(join(dir, "kind"), 0o755);
      writeFileSync(join(dir, "docker"), "not executable\n"); // present but not executable
      const r = checkTools(["docker", "kind", "kubectl"], { PATH: dir }, "up");
      expect(r.ok).toBe(false);
      expect(r.found.kind).toBe(join(dir, "kind"));
      expect(r.missing).toEqual(["docker", "kubectl"]);
      expect(r.message).toContain("missing prerequisites for up: docker, kubectl");
      expect(r.message).toContain("https://docs.docker.com/get-docker/");
      expect(r.message).toContain("https://kubernetes.io/docs/tasks/tools/");
      expect(r.message).not.toContain("kind.sigs.k8s.io");
      expect(checkTools(["kind"], { PATH: dir }).ok).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("`up` with a PATH lacking docker and kind names both and exits 1 before doing anything", () => {
    const dir = mkdtempSync(join(tmpdir(), "bun-k8s-path-"));
    try {
      if (kubectlPath) symlinkSync(kubectlPath, join(dir, "kubectl"));
      const r = k8s(["up"], { PATH: dir, HOME: dir });
      expect(r.code).toBe(1);
      const missing = kubectlPath ? "docker, kind" : "docker, kind, kubectl";
      expect(r.stderr).toContain(`missing prerequisites for up: ${missing} (not found on PATH)`);
      expect(r.stderr).toContain("kind.sigs.k8s.io");
      expect(r.stderr).not.toContain("$ "); // no command ran
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("kubectl tasks with an empty PATH name kubectl; `clean` names docker and kind", () => {
    const dir = mkdtempSync(join(tmpdir(), "bun-k8s-path-"));
    try {
      for (const cmd of ["status", "down", "logs", "restart", "rollback", "hpa-status", "redis-status", "port-forward", "deploy"]) {
        const r = k8s([cmd], { PATH: dir, HOME: dir });
        expect(r.code, cmd).toBe(1);
        expect(r.stderr, cmd).toContain(`missing prerequisite for ${cmd}: kubectl (not found on PATH)`);
      }
      const clean = k8s(["clean"], { PATH: dir, HOME: dir });
      expect(clean.code).toBe(1);
      expect(clean.stderr).toContain("missing prerequisites for clean: docker, kind");
      const image = k8s(["image"], { PATH: dir, HOME: dir });
      expect(image.code).toBe(1);
      expect(image.stderr).toContain("building the image needs Docker (with its daemon) or podman (as root)");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // An unset N and an unknown overlay are checked through go-task above.
  test.skipIf(!kubectlPath && !CI)("with kubectl but no context, cluster commands stop with a clear message (kubectl would try localhost:8080)", () => {
    if (!kubectlPath) throw new Error("kubectl is required in CI");
    withoutContext((dir, kubeconfig) => {
      const env = { PATH: process.env.PATH!, HOME: dir, KUBECONFIG: kubeconfig };
      const status = k8s(["status"], env);
      expect(status.code).toBe(1);
      expect(status.stderr).toContain("kubectl has no current context");
      const unknown = k8s(["frobnicate"], env);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('unknown command "frobnicate"');
    });
  });


  test("help lists every command the cluster tasks use", () => {
    const commands = k8sCommands();
    for (const name of CLUSTER_TASKS) expect(commands).toContain(name);
  });
});

describe("image build arguments", () => {
  test("the Docker and the podman build pass the VERSION and REVISION build args the Dockerfile declares", async () => {
    const dockerfile = await Bun.file(join(ROOT, "Dockerfile")).text();
    const docker = await Bun.file(join(ROOT, "scripts/lib/images.ts")).text();
    const podman = await Bun.file(join(ROOT, "scripts/lib/podman.ts")).text();
    for (const name of ["VERSION", "REVISION"]) {
      expect(dockerfile).toMatch(new RegExp(`^ARG ${name}\\b`, "m"));
      expect(docker).toContain(`\`${name}=\${`);
      expect(podman).toContain(`\`${name}=\${`);
    }
  });
});

describe("the namespace deploy creates", () => {
  test("is labelled for Pod Security restricted: enforce, audit and warn", () => {
    const ns = namespaceManifest("bun-k8s-lab");
    expect(ns).toMatchObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: "bun-k8s-lab" } });
    for (const mode of ["enforce", "audit", "warn"]) {
      expect(ns.metadata.labels[`pod-security.kubernetes.io/${mode}`]).toBe("restricted");
      expect(ns.metadata.labels[`pod-security.kubernetes.io/${mode}-version`]).toBe("latest");
    }
  });
});

describe("--timeout, read as kubectl reads it", () => {
  test("seconds, minutes, hours and their sums; anything else is refused", () => {
    expect(durationSeconds("180s")).toBe(180);
    expect(durationSeconds("3m")).toBe(180);
    expect(durationSeconds("1m30s")).toBe(90);
    expect(durationSeconds("1h")).toBe(3600);
    expect(durationSeconds("45")).toBe(45);
    for (const bad of ["", "s", "3 minutes", "-5s", "1.5m"]) expect(durationSeconds(bad)).toBeNull();
  });

  test("a --timeout kubectl would not take stops the command with a usage error, before any kubectl", () => {
    const r = k8s(["status", "--timeout", "soon"], { PATH: process.env.PATH });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--timeout takes a duration such as 180s");
  });
});
