// Taskfile.yml is a thin layer over package.json scripts and scripts/*.ts (go-task cannot be
// installed here, so the logic must be runnable and tested without it).
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { checkTools, findOnPath } from "../scripts/cluster/prereqs";
import { kindSettings, overlayImage, overlayNames } from "../scripts/cluster/settings";
import { COMMANDS, parseArgs } from "../scripts/k8s";

const ROOT = resolve(import.meta.dir, "..");
const taskfile = parse(await Bun.file(join(ROOT, "Taskfile.yml")).text()) as {
  version: string;
  tasks: Record<string, { desc?: string; cmds?: unknown[]; silent?: boolean }>;
};
const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { scripts: Record<string, string> };

// Every task named in issue 4.
const REQUIRED = [
  "up", "down", "clean", "deploy", "status", "logs", "scale", "restart", "rollout-status", "rollback",
  "hpa-status", "redis-status", "port-forward", "build", "image", "dev", "start", "test", "test-e2e", "bench", "default",
];

const kubectlPath = findOnPath("kubectl", process.env.PATH);
const CI = process.env.CI === "true";

function run(args: string[], env: Record<string, string>) {
  const r = Bun.spawnSync([process.execPath, "run", join(ROOT, "scripts/k8s.ts"), ...args], { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe("Taskfile.yml", () => {
  test("is go-task v3 with every task of the issue, each described", () => {
    expect(taskfile.version).toBe("3");
    const names = Object.keys(taskfile.tasks);
    for (const name of REQUIRED) expect(names).toContain(name);
    for (const [name, task] of Object.entries(taskfile.tasks)) {
      expect(typeof task.desc === "string" && task.desc.length > 5, `task ${name} has a description`).toBe(true);
      expect(Array.isArray(task.cmds) && task.cmds.length > 0, `task ${name} has commands`).toBe(true);
    }
  });

  test("default lists the tasks with their descriptions", () => {
    expect(taskfile.tasks.default!.cmds).toEqual(["task --list"]);
  });

  test("every task is one command that calls an existing package.json script or scripts/*.ts file", () => {
    for (const [name, task] of Object.entries(taskfile.tasks)) {
      if (name === "default") continue;
      expect(task.cmds!.length, `task ${name}: one command`).toBe(1);
      const cmd = task.cmds![0];
      expect(typeof cmd, `task ${name}: a plain command string`).toBe("string");
      const line = cmd as string;
      // Thin: no shell logic (pipes, chains, conditionals, substitutions).
      expect(line.replace(/\{\{[^}]*\}\}/g, ""), `task ${name} has shell logic`).not.toMatch(/[|;&`]|\$\(|\bif\b|\bthen\b/);
      const m = /^bun run (\S+)(?: (.*))?$/.exec(line);
      expect(m, `task ${name}: "${line}" is not "bun run <script> ..."`).not.toBeNull();
      const target = m![1]!;
      if (target.endsWith(".ts")) {
        expect(target).toMatch(/^scripts\/[\w./-]+\.ts$/);
        expect(existsSync(join(ROOT, target)), `${target} exists`).toBe(true);
        if (target === "scripts/k8s.ts") {
          const sub = m![2]!.split(" ")[0]!;
          expect(COMMANDS, `task ${name}: scripts/k8s.ts has a "${sub}" command`).toContain(sub);
        }
      } else {
        expect(Object.keys(pkg.scripts), `task ${name}: package.json has script "${target}"`).toContain(target);
      }
    }
  });

  test("cluster tasks map to scripts/k8s.ts commands of the same name", () => {
    for (const name of ["up", "down", "clean", "deploy", "status", "logs", "scale", "restart", "rollout-status", "rollback", "hpa-status", "redis-status", "port-forward", "image"]) {
      expect(taskfile.tasks[name]!.cmds![0]).toStartWith(`bun run scripts/k8s.ts ${name}`);
    }
    expect(taskfile.tasks["test-e2e"]!.cmds![0]).toStartWith("bun run test:e2e");
    expect(pkg.scripts["test:e2e"]).toBe("bun run scripts/e2e.ts");
  });

  test("task variables reach the scripts as arguments the parser accepts", () => {
    // What go-task renders when the variable is unset ("") and set.
    expect(parseArgs(["--revision="]).revision).toBeUndefined();
    expect(parseArgs(["--revision=3"]).revision).toBe(3);
    expect(parseArgs(["--tag="]).tag).toBeUndefined();
    expect(parseArgs(["--port=9000"]).port).toBe(9000);
    expect(parseArgs(["--port="]).port).toBeUndefined();
    expect(parseArgs(["kind", ""]).positional).toEqual(["kind"]);
    expect(() => parseArgs(["--port=http"])).toThrow("--port: expected a whole number");
    expect(parseArgs([], { KUBE_CONTEXT: "kind-bun-k8s", KUBE_NAMESPACE: "demo" })).toMatchObject({ context: "kind-bun-k8s", namespace: "demo" });
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
      const r = run(["up"], { PATH: dir, HOME: dir });
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
        const r = run([cmd], { PATH: dir, HOME: dir });
        expect(r.code, cmd).toBe(1);
        expect(r.stderr, cmd).toContain(`missing prerequisite for ${cmd}: kubectl (not found on PATH)`);
      }
      const clean = run(["clean"], { PATH: dir, HOME: dir });
      expect(clean.code).toBe(1);
      expect(clean.stderr).toContain("missing prerequisites for clean: docker, kind");
      const image = run(["image"], { PATH: dir, HOME: dir });
      expect(image.stderr).toContain("missing prerequisite for image: docker");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("with kubectl but no context, cluster tasks stop with a clear message (kubectl would try localhost:8080)", () => {
    if (!kubectlPath) {
      if (CI) throw new Error("kubectl is required in CI");
      console.warn("skip: kubectl is not installed");
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "bun-k8s-kube-"));
    try {
      const kubeconfig = join(dir, "config");
      writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n");
      const env = { PATH: process.env.PATH!, HOME: dir, KUBECONFIG: kubeconfig };
      const status = run(["status"], env);
      expect(status.code).toBe(1);
      expect(status.stderr).toContain("kubectl has no current context");
      const scale = run(["scale"], env);
      expect(scale.code).toBe(2);
      expect(scale.stderr).toContain("scale needs a replica count");
      const deploy = run(["deploy", "nope"], env);
      expect(deploy.code).toBe(1);
      expect(deploy.stderr).toContain('unknown overlay "nope": expected one of docker-desktop, high-replica, kind');
      const unknown = run(["frobnicate"], env);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('unknown command "frobnicate"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("help lists every command the Taskfile uses", () => {
    const r = run(["help"], { PATH: process.env.PATH! });
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c} `);
  });
});

describe("image build arguments", () => {
  test("task image/up pass the VERSION and REVISION build args the Dockerfile declares", async () => {
    const dockerfile = await Bun.file(new URL("../Dockerfile", import.meta.url)).text();
    const k8s = await Bun.file(new URL("../scripts/k8s.ts", import.meta.url)).text();
    for (const name of ["VERSION", "REVISION"]) {
      expect(dockerfile).toMatch(new RegExp(`^ARG ${name}\\b`, "m"));
      expect(k8s).toContain(`\`${name}=\${`);
    }
  });
});
