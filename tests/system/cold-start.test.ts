// Cold start: src/store/redis.ts loads node-redis when the store connects, not at import;
// evaluating it costs about 25 ms that a service on the embedded store never needs.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../../scripts/lib/repo";

const loadedRedisModules = (script: string) => {
  const r = Bun.spawnSync([process.execPath, "-e", script], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  expect(r.exitCode, r.stderr.toString()).toBe(0);
  return Number(r.stdout.toString().trim());
};
const COUNT = 'console.log(Object.keys(require.cache).filter((k) => k.includes("/@redis/")).length)';

test("importing the app and the stores loads no node-redis module; connecting does", () => {
  const app = join(ROOT, "src/app.ts");
  const stores = join(ROOT, "src/store/index.ts");
  expect(loadedRedisModules(`await import(${JSON.stringify(app)}); await import(${JSON.stringify(stores)}); ${COUNT}`)).toBe(0);
  // The check can fail: the same count after the import the store does on connect.
  expect(loadedRedisModules(`await import("redis"); ${COUNT}`)).toBeGreaterThan(0);
});
