import { Elysia } from "elysia";
import type { AppDeps } from "../../deps";
import { publicConfig, redisEndpoint } from "../../config";
import { REVISION, VERSION } from "../../version";
import { prefersHtml, uiPageResponse } from "../ui";

const tags = ["info"];

/** Pod metadata from the Downward API env vars, with defaults for running outside Kubernetes. */
export function podInfo(env: AppDeps["env"], hostname: string) {
  return {
    pod_name: env.POD_NAME || hostname,
    pod_ip: env.POD_IP || "unknown",
    node_name: env.NODE_NAME || "unknown",
    namespace: env.POD_NAMESPACE || "unknown",
    cpu_request: env.CPU_REQUEST || "not set",
    cpu_limit: env.CPU_LIMIT || "not set",
    memory_request: env.MEMORY_REQUEST || "not set",
    memory_limit: env.MEMORY_LIMIT || "not set",
  };
}

/** Where the configured Redis is, as the original app reported it (never the password). */
export function redisTarget(config: AppDeps["config"]): { host: string | null; port: number | null } {
  return config.redisUrl || config.redisHost
    ? redisEndpoint(config.redisUrl, config.redisHost, config.redisPort)
    : { host: null, port: null };
}

export const infoModule = (deps: AppDeps) => {
  const { config, hostname, store } = deps;
  const redis = redisTarget(config);
  // Derived values win over the raw ones: where Redis really is (REDIS_URL wins over REDIS_HOST),
  // the store in use (STORE=auto resolves to one), and whether cookies are signed (the secret is not shown).
  const shownConfig = {
    ...publicConfig(config),
    redis_host: redis.host,
    redis_port: redis.port,
    store: store.kind,
    session_cookie_signed: Boolean(config.sessionSecret),
    version: VERSION,
  };

  const greeting = { message: `Hello from ${config.appName}!`, server: hostname, version: VERSION };

  return new Elysia()
    .get("/", ({ request, set }) => {
      // A browser (Accept prefers text/html) gets the dashboard; curl and scripts (*/*) keep the JSON.
      // Both answers vary on Accept, so a cache in between never hands one client the other's.
      // The statement order is deliberate: Elysia scans a handler's source text and compiles it
      // as Promise-returning when a call follows the return keyword, and the transpiler folds
      // `const body = f(); return body;` back into that shape unless a statement sits between.
      const body = prefersHtml(request.headers.get("accept")) ? uiPageResponse(request) : greeting;
      set.headers.vary = "Accept";
      return body;
    }, {
      detail: { tags, summary: "Greeting with the name of the pod that answered" },
    })
    .get("/config", () => shownConfig, {
      detail: { tags, summary: "Effective configuration (ConfigMap values; secrets never shown)" },
    })
    .get("/version", () => ({ version: VERSION, revision: REVISION, server: hostname, bun: Bun.version }), {
      detail: { tags, summary: "Build version and revision" },
    })
    .get("/info", () => ({ ...podInfo(deps.env, hostname), hostname, version: VERSION, uptime_seconds: Math.round(process.uptime()) }), {
      detail: { tags, summary: "Pod metadata from the Downward API" },
    });
};
