// Prerequisite checks for the cluster tasks: which tools are on PATH, and a message that names
// every missing one with a pointer to install it. No side effects at import.
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

export type Tool = "docker" | "kind" | "kubectl";

export const INSTALL_HINTS: Record<Tool, string> = {
  docker: "Docker Engine or Docker Desktop: https://docs.docker.com/get-docker/",
  kind: "kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation (go install sigs.k8s.io/kind@latest, brew install kind)",
  kubectl: "kubectl: https://kubernetes.io/docs/tasks/tools/ (brew install kubectl)",
};

/** The first executable called `name` on `path` (a PATH string), or null. */
export function findOnPath(name: string, path: string | undefined): string | null {
  for (const dir of (path ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export interface PrereqResult {
  ok: boolean;
  found: Partial<Record<Tool, string>>;
  missing: Tool[];
  /** Empty when ok; otherwise one line per missing tool, ready to print. */
  message: string;
}

/** Checks that every tool in `tools` is on PATH (env.PATH); names what is missing. */
export function checkTools(tools: readonly Tool[], env: Record<string, string | undefined> = process.env, task = "this task"): PrereqResult {
  const found: Partial<Record<Tool, string>> = {};
  const missing: Tool[] = [];
  for (const tool of tools) {
    const at = findOnPath(tool, env.PATH);
    if (at) found[tool] = at;
    else missing.push(tool);
  }
  const message =
    missing.length === 0
      ? ""
      : [
          `missing prerequisite${missing.length > 1 ? "s" : ""} for ${task}: ${missing.join(", ")} (not found on PATH)`,
          ...missing.map((t) => `  - ${INSTALL_HINTS[t]}`),
        ].join("\n");
  return { ok: missing.length === 0, found, missing, message };
}

/** The Docker daemon answers (the client alone is not enough to build or to run kind). */
export function dockerDaemonMessage(env: Record<string, string | undefined> = process.env): string | null {
  const r = Bun.spawnSync(["docker", "info", "--format", "{{.ServerVersion}}"], { env, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode === 0) return null;
  const why = r.stderr.toString().trim().split("\n").pop() ?? "";
  return `docker is installed but its daemon is not reachable (start Docker Desktop or the docker service)${why ? `: ${why}` : ""}`;
}
