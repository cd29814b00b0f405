// The runtime's ceiling for `bun run bench`: plain Bun.serve, the same JSON bodies as bun-k8s,
// no framework, no hooks, no metrics, no logs. /visits uses the same Redis client library
// (node-redis, same options) so the ratio measures the framework and the app, not the client.
//
//   PORT=0 REDIS_URL=redis://127.0.0.1:6379 bun scripts/bench/ceiling.ts
// Prints one line `listening <port>` on stdout once it accepts connections.
import { hostname as osHostname } from "node:os";
import { createClient } from "redis";

const hostname = osHostname();
const version = process.env.BENCH_VERSION || "1.0.0";
const appName = process.env.APP_NAME || "bun-k8s";
const prefix = process.env.REDIS_KEY_PREFIX || "bun-k8s:";
const redisUrl = process.env.REDIS_URL;

const redis = redisUrl
  ? createClient({
      url: redisUrl,
      disableOfflineQueue: true,
      commandsQueueMaxLength: 1000,
      commandOptions: { timeout: 500 },
      socket: { connectTimeout: 500, reconnectStrategy: (n: number) => Math.min(50 * 2 ** Math.min(n, 6), 2000) },
    })
  : undefined;
redis?.on("error", () => {});
if (redis) await redis.connect();

const json = (body: unknown, status = 200) => Response.json(body, { status });

// Bun's native router (`routes`), as Elysia's Bun adapter uses; bodies are built per request.
const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  routes: {
    "/": () => json({ message: `Hello from ${appName}!`, server: hostname, version }),
    "/health": () => json({ status: "healthy" }),
    "/ready": () => json({ status: "ready" }),
    "/visits": async () => {
      if (!redis?.isReady) return json({ error: "redis unavailable" }, 503);
      try {
        const visits = await redis.incr(`${prefix}visits`);
        return json({ visits, server: hostname, redis_host: "127.0.0.1" });
      } catch {
        return json({ error: "redis unavailable" }, 503);
      }
    },
  },
  fetch: () => json({ error: "not found" }, 404),
});
process.stdout.write(`listening ${server.port}\n`);
const stop = async () => {
  await server.stop(true);
  await redis?.close().catch(() => {});
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
