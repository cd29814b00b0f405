// Optional tools: a suite that needs one skips with the reason outside CI, and fails under CI=true
// (where .ci/run must have installed it).
import { test } from "bun:test";

export const CI = process.env.CI === "true";

/** The tool's path, or undefined after registering the CI failure (or printing the skip reason). */
export function requireTool(name: string, install: string, candidates: string[] = []): string | undefined {
  const found = Bun.which(name) ?? candidates.find((p) => Bun.file(p).size > 0);
  if (found) return found;
  if (CI) {
    test(`${name} is installed (required when CI=true)`, () => {
      throw new Error(`${name} not found: .ci/run must install it (${install})`);
    });
  } else {
    console.warn(`SKIPPED: ${name} not found (${install}); under CI=true this fails`);
  }
  return undefined;
}
