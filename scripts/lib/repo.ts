// Where the repository is and which commit it is at, for every script and test.
import { resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");

/** `git rev-parse --short HEAD`, or "unknown" outside a git checkout or without git (image build stage). */
export function gitRevision(cwd: string = ROOT): string {
  try {
    const r = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd, stdout: "pipe", stderr: "ignore" });
    const out = r.stdout.toString().trim();
    return r.exitCode === 0 && out ? out : "unknown";
  } catch {
    return "unknown";
  }
}
