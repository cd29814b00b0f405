import { Elysia, t } from "elysia";
import { availableParallelism } from "node:os";
import type { AppDeps } from "../../deps";
import { HttpError } from "../../http/errors";
import { decimalInt } from "../../http/numbers";
import { CpuStress, MemoryBallast } from "./stress";

const tags = ["chaos"];

/** The one CHAOS_ENABLED switch: chaos routes and fault injection answer 403 when it is off. */
export function assertChaosEnabled(config: AppDeps["config"]): void {
  if (!config.chaosEnabled) {
    throw new HttpError(403, "chaos endpoints are disabled", { hint: "set CHAOS_ENABLED=true" });
  }
}

/** Fault tools: crash, CPU stress (in workers) and memory stress. Off with CHAOS_ENABLED=false. */
export const chaosModule = (deps: AppDeps) => {
  const { config, logger, hostname } = deps;
  const cpus = Math.max(1, availableParallelism());
  const cpu = new CpuStress(cpus * 2);
  const ballast = new MemoryBallast();
  const guard = () => assertChaosEnabled(config);

  return new Elysia()
    .post("/crash", () => {
      guard();
      logger.error("crash requested: exiting with code 1", { server: hostname });
      // Answer first, then die: the client sees the reply and the kubelet sees the exit.
      setTimeout(() => deps.exit(1), 100);
      return { message: "crashing", server: hostname, exit_code: 1 };
    }, { detail: { tags, summary: "Answer, then exit with code 1 (self-healing demo)" } })
    .get("/stress", async ({ query }) => {
      guard();
      const requested = query.seconds ?? 10;
      const seconds = Math.min(requested, config.maxStressSeconds);
      const workers = Math.min(query.workers ?? 1, cpus);
      if (cpu.running + workers > cpu.maxWorkers) {
        throw new HttpError(429, "too many concurrent stress requests", {
          detail: { running_workers: cpu.running, max_workers: cpu.maxWorkers },
          hint: "wait for a running /stress to finish",
        });
      }
      logger.info("cpu stress", { seconds, workers });
      const started = performance.now();
      await cpu.run(seconds, workers);
      return {
        stressed_seconds: seconds,
        requested_seconds: requested,
        capped: requested > seconds,
        workers,
        elapsed_ms: Math.round(performance.now() - started),
        server: hostname,
      };
    }, {
      query: t.Object({
        seconds: t.Optional(decimalInt("seconds", { minimum: 0, maximum: 86_400, description: "default 10, capped at MAX_STRESS_SECONDS" })),
        workers: t.Optional(decimalInt("workers", { minimum: 1, maximum: 1024, description: "busy threads, up to the CPU count" })),
      }),
      detail: { tags, summary: "Burn CPU for N seconds in worker threads (HPA demo)" },
    })
    .get("/stress/memory", ({ query }) => {
      guard();
      const requested = query.mb ?? 64;
      const room = config.maxMemoryStressMb - ballast.heldMb;
      const mb = Math.max(0, Math.min(requested, room));
      ballast.allocate(mb);
      logger.info("memory stress", { allocated_mb: mb, held_mb: ballast.heldMb });
      return {
        allocated_mb: mb,
        requested_mb: requested,
        held_mb: ballast.heldMb,
        max_mb: config.maxMemoryStressMb,
        capped: requested > mb,
        rss_mb: Math.round(process.memoryUsage().rss / 1048576),
        server: hostname,
      };
    }, {
      query: t.Object({
        mb: t.Optional(decimalInt("mb", { minimum: 0, maximum: 1_048_576, description: "MiB to add, default 64; total capped at MAX_MEMORY_STRESS_MB" })),
      }),
      detail: { tags, summary: "Allocate and hold N MiB (OOMKill demo)" },
    })
    .post("/stress/memory/release", () => {
      const released = ballast.release();
      return { released_mb: released, held_mb: 0, server: hostname };
    }, { detail: { tags, summary: "Free memory held by /stress/memory" } });
};
