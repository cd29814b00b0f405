// Every knob is an env var and a matching flag (--kebab-case), with a documented default.
// Flags win over env. Invalid values fail at start with one message naming the variable.

import { parseTrustedOrigins } from "./http/cross-origin";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type StoreKind = "auto" | "memory" | "redis";

export interface Config {
  port: number;
  host: string;
  appName: string;
  logLevel: LogLevel;
  maxStressSeconds: number;
  maxMemoryStressMb: number;
  chaosEnabled: boolean;
  metricsEnabled: boolean;
  store: StoreKind;
  redisUrl: string | undefined;
  redisHost: string | undefined;
  redisPort: number;
  redisPassword: string | undefined;
  redisKeyPrefix: string;
  redisTimeoutMs: number;
  sessionTtl: number;
  sessionSecret: string | undefined;
  cookieSecure: boolean;
  trustedOrigins: string;
  authUsers: string | undefined;
  loginRateLimit: number;
  loginMaxConcurrentVerifies: number;
  shutdownDelaySeconds: number;
  shutdownTimeoutSeconds: number;
  heartbeatIntervalSeconds: number;
  maxBodyBytes: number;
  bodyTimeoutSeconds: number;
  maxKeyLength: number;
  maxValueBytes: number;
  kvMaxKeys: number;
  kvMaxBytes: number;
  kvTtlSeconds: number;
  maxDelaySeconds: number;
  maxEchoBytes: number;
  maxWsMessageBytes: number;
  wsBackpressureBytes: number;
  wsMaxConnections: number;
  dnsTimeoutMs: number;
  faultErrorRate: number;
  faultStatus: number;
  faultLatencyMinMs: number;
  faultLatencyMaxMs: number;
  clusterView: boolean;
  clusterViewNamespace: string;
  clusterViewMaxClients: number;
}

type Kind = "int" | "number" | "string" | "bool" | "enum";

export interface ConfigVar {
  env: string;
  key: keyof Config;
  kind: Kind;
  default: string | undefined;
  description: string;
  min?: number;
  max?: number;
  values?: readonly string[];
  secret?: boolean;
}

// The single source of truth: used by the loader, --help, the README table and the
// Kustomize contract tests (every ConfigMap key must be read here).
export const CONFIG_VARS: readonly ConfigVar[] = [
  { env: "PORT", key: "port", kind: "int", default: "8000", min: 0, max: 65535, description: "TCP port to listen on (0 picks a free port)" },
  { env: "HOST", key: "host", kind: "string", default: "0.0.0.0", description: "Address to bind" },
  { env: "APP_NAME", key: "appName", kind: "string", default: "bun-k8s", description: "Name shown in GET / and /config" },
  { env: "LOG_LEVEL", key: "logLevel", kind: "enum", default: "info", values: ["debug", "info", "warn", "error"], description: "Log level; access lines are logged at debug" },
  { env: "MAX_STRESS_SECONDS", key: "maxStressSeconds", kind: "int", default: "60", min: 1, max: 3600, description: "Upper bound for GET /stress?seconds=N" },
  { env: "MAX_MEMORY_STRESS_MB", key: "maxMemoryStressMb", kind: "int", default: "256", min: 1, max: 65536, description: "Upper bound for GET /stress/memory?mb=N (total held)" },
  { env: "CHAOS_ENABLED", key: "chaosEnabled", kind: "bool", default: "true", description: "Allow /crash, /stress and /stress/memory (403 when false)" },
  { env: "METRICS_ENABLED", key: "metricsEnabled", kind: "bool", default: "true", description: "Serve Prometheus metrics on /metrics" },
  { env: "STORE", key: "store", kind: "enum", default: "auto", values: ["auto", "memory", "redis"], description: "auto: Redis when REDIS_URL or REDIS_HOST is set, else in-memory" },
  { env: "REDIS_URL", key: "redisUrl", kind: "string", default: undefined, secret: true, description: "redis://[:password@]host:port[/db]; wins over REDIS_HOST/REDIS_PORT" },
  { env: "REDIS_HOST", key: "redisHost", kind: "string", default: undefined, description: "Redis host (the Service name in Kubernetes)" },
  { env: "REDIS_PORT", key: "redisPort", kind: "int", default: "6379", min: 1, max: 65535, description: "Redis port" },
  { env: "REDIS_PASSWORD", key: "redisPassword", kind: "string", default: undefined, secret: true, description: "Redis password (AUTH), from a Secret" },
  { env: "REDIS_KEY_PREFIX", key: "redisKeyPrefix", kind: "string", default: "bun-k8s:", description: "Prefix of every key this service writes" },
  { env: "REDIS_TIMEOUT_MS", key: "redisTimeoutMs", kind: "int", default: "500", min: 50, max: 60000, description: "Connect and per-command timeout; past it a route answers 503" },
  { env: "SESSION_TTL", key: "sessionTtl", kind: "int", default: "3600", min: 1, max: 31536000, description: "Session lifetime in seconds" },
  { env: "SESSION_SECRET", key: "sessionSecret", kind: "string", default: undefined, secret: true, description: "When set, the session cookie is signed with it (at least 32 characters, else a warning at start)" },
  { env: "COOKIE_SECURE", key: "cookieSecure", kind: "bool", default: "false", description: "Mark the session cookie Secure (serve over HTTPS)" },
  { env: "TRUSTED_ORIGINS", key: "trustedOrigins", kind: "string", default: "", description: "Other origins whose pages may send state-changing requests (comma separated, e.g. https://dash.example); cross-site ones are refused with 403" },
  { env: "AUTH_USERS", key: "authUsers", kind: "string", default: undefined, secret: true, description: "user:password pairs: one per line, or comma separated on one line (then a plain password has no comma), or a JSON object; passwords may be Bun.password hashes. Ambiguous input fails at start. Unset: demo users admin/admin and user/user" },
  { env: "LOGIN_RATE_LIMIT", key: "loginRateLimit", kind: "int", default: "20", min: 1, max: 100000, description: "POST /login attempts per minute per client address (429 past it)" },
  { env: "LOGIN_MAX_CONCURRENT_VERIFIES", key: "loginMaxConcurrentVerifies", kind: "int", default: "1", min: 1, max: 64, description: "Password hash checks at once (an argon2id check holds 64 MiB); 16 per slot wait, more get 429" },
  { env: "SHUTDOWN_DELAY_SECONDS", key: "shutdownDelaySeconds", kind: "int", default: "5", min: 0, max: 300, description: "After SIGTERM: seconds to keep serving while readiness is 503" },
  { env: "SHUTDOWN_TIMEOUT_SECONDS", key: "shutdownTimeoutSeconds", kind: "int", default: "10", min: 1, max: 300, description: "After the delay: longest wait for in-flight requests" },
  { env: "HEARTBEAT_INTERVAL_SECONDS", key: "heartbeatIntervalSeconds", kind: "int", default: "5", min: 1, max: 300, description: "Replica heartbeat period (entry TTL is 3x)" },
  { env: "MAX_BODY_BYTES", key: "maxBodyBytes", kind: "int", default: "1048576", min: 1024, max: 104857600, description: "Largest request body accepted (413 above)" },
  { env: "BODY_TIMEOUT_SECONDS", key: "bodyTimeoutSeconds", kind: "int", default: "10", min: 1, max: 3600, description: "Longest time to receive a whole request body (408 and the connection closed past it)" },
  { env: "MAX_KEY_LENGTH", key: "maxKeyLength", kind: "int", default: "256", min: 1, max: 4096, description: "Longest /kv key" },
  { env: "MAX_VALUE_BYTES", key: "maxValueBytes", kind: "int", default: "65536", min: 1, max: 10485760, description: "Largest /kv value in bytes (413 above)" },
  { env: "KV_MAX_KEYS", key: "kvMaxKeys", kind: "int", default: "1000", min: 1, max: 100000, description: "Most /kv keys at once, over all replicas (507 for a new key past it)" },
  { env: "KV_MAX_BYTES", key: "kvMaxBytes", kind: "int", default: "8388608", min: 1024, max: 1073741824, description: "Most /kv bytes (keys plus values) at once, over all replicas (507 past it); keeps room for sessions and counters" },
  { env: "KV_TTL_SECONDS", key: "kvTtlSeconds", kind: "int", default: "86400", min: 1, max: 31536000, description: "Lifetime of a /kv key; every write restarts it" },
  { env: "MAX_DELAY_SECONDS", key: "maxDelaySeconds", kind: "int", default: "30", min: 1, max: 3600, description: "Upper bound for GET /delay/:seconds and GET /chunked/:seconds (422 above)" },
  { env: "MAX_ECHO_BYTES", key: "maxEchoBytes", kind: "int", default: "65536", min: 1, max: 10485760, description: "Largest POST /echo body (413 above)" },
  { env: "MAX_WS_MESSAGE_BYTES", key: "maxWsMessageBytes", kind: "int", default: "65536", min: 1, max: 16777216, description: "Largest /ws/echo message; a bigger one closes the socket with code 1009" },
  { env: "WS_BACKPRESSURE_BYTES", key: "wsBackpressureBytes", kind: "int", default: "262144", min: 1024, max: 67108864, description: "Bytes buffered for a WebSocket client that does not read; past it the socket is closed (at least MAX_WS_MESSAGE_BYTES)" },
  { env: "WS_MAX_CONNECTIONS", key: "wsMaxConnections", kind: "int", default: "64", min: 1, max: 100000, description: "Open /ws/echo sockets at once; past it an upgrade gets 503" },
  { env: "DNS_TIMEOUT_MS", key: "dnsTimeoutMs", kind: "int", default: "2000", min: 100, max: 30000, description: "Longest GET /dns lookup (504 past it)" },
  { env: "FAULT_ERROR_RATE", key: "faultErrorRate", kind: "number", default: "0", min: 0, max: 1, description: "Fault injection at start: share of application requests answered with FAULT_STATUS (0 to 1)" },
  { env: "FAULT_STATUS", key: "faultStatus", kind: "int", default: "503", min: 400, max: 599, description: "Fault injection: status of injected errors" },
  { env: "FAULT_LATENCY_MIN_MS", key: "faultLatencyMinMs", kind: "int", default: "0", min: 0, max: 60000, description: "Fault injection at start: least added latency per application request" },
  { env: "FAULT_LATENCY_MAX_MS", key: "faultLatencyMaxMs", kind: "int", default: "0", min: 0, max: 60000, description: "Fault injection at start: most added latency (faults are on at start when this or FAULT_ERROR_RATE is above 0)" },
  { env: "CLUSTER_VIEW", key: "clusterView", kind: "bool", default: "false", description: "Watch this namespace's Deployments, ReplicaSets, Pods, EndpointSlices, HPAs and events through the Kubernetes API and stream them to the dashboard (GET /cluster); needs a ServiceAccount token and the read-only Role of kustomize/components/cluster-view (on in the kind and docker-desktop overlays)" },
  { env: "CLUSTER_VIEW_NAMESPACE", key: "clusterViewNamespace", kind: "string", default: "", description: "Namespace the cluster view watches; empty: the pod's own (its ServiceAccount's), else POD_NAMESPACE, else the kubeconfig context's" },
  { env: "CLUSTER_VIEW_MAX_CLIENTS", key: "clusterViewMaxClients", kind: "int", default: "32", min: 1, max: 10000, description: "Open GET /cluster/events streams at once; past it a new one gets 503 (every stream shares one set of watches)" },
];

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface CliCommand {
  command: "serve" | "help" | "version" | "healthcheck";
  config: Config;
}

const flagName = (v: ConfigVar) => "--" + v.env.toLowerCase().replaceAll("_", "-");

function parseValue(v: ConfigVar, raw: string, source: string): unknown {
  const where = `${source}=${JSON.stringify(raw)}`;
  switch (v.kind) {
    case "string":
      return raw;
    case "bool": {
      const s = raw.trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(s)) return true;
      if (["0", "false", "no", "off"].includes(s)) return false;
      throw new ConfigError(`${where}: expected true or false`);
    }
    case "enum":
      if (!v.values!.includes(raw.trim().toLowerCase())) {
        throw new ConfigError(`${where}: expected one of ${v.values!.join(", ")}`);
      }
      return raw.trim().toLowerCase();
    case "number": {
      const s = raw.trim();
      if (!/^-?(\d+\.?\d*|\.\d+)$/.test(s)) throw new ConfigError(`${where}: expected a number`);
      const n = Number(s);
      if ((v.min !== undefined && n < v.min) || (v.max !== undefined && n > v.max)) {
        throw new ConfigError(`${where}: expected a number from ${v.min} to ${v.max}`);
      }
      return n;
    }
    case "int": {
      const s = raw.trim();
      if (!/^-?\d+$/.test(s)) throw new ConfigError(`${where}: expected a whole number`);
      const n = Number(s);
      if ((v.min !== undefined && n < v.min) || (v.max !== undefined && n > v.max)) {
        throw new ConfigError(`${where}: expected a number from ${v.min} to ${v.max}`);
      }
      return n;
    }
  }
}

/** Parses env and argv (without the executable and script) into a validated Config. */
export function parseCli(argv: readonly string[], env: Record<string, string | undefined>): CliCommand {
  const raw = new Map<ConfigVar, { value: string; source: string }>();
  for (const v of CONFIG_VARS) {
    const value = env[v.env];
    if (value !== undefined && value !== "") raw.set(v, { value, source: v.env });
  }
  let command: CliCommand["command"] = "serve";
  const byFlag = new Map(CONFIG_VARS.map((v) => [flagName(v), v]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") command = "help";
    else if (arg === "--version" || arg === "-v") command = "version";
    else if (arg === "healthcheck" && i === 0) command = "healthcheck";
    else if (arg === "serve" && i === 0) command = "serve";
    else if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq === -1 ? arg : arg.slice(0, eq);
      const v = byFlag.get(name);
      if (!v) throw new ConfigError(`unknown flag ${name} (see --help)`);
      let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
      if (value === undefined) {
        const next = argv[i + 1];
        if (v.kind === "bool" && (next === undefined || next.startsWith("--"))) value = "true";
        else if (next === undefined) throw new ConfigError(`${name} needs a value`);
        else value = argv[++i]!;
      }
      raw.set(v, { value, source: name });
    } else {
      throw new ConfigError(`unexpected argument ${JSON.stringify(arg)} (see --help)`);
    }
  }
  const config = {} as Record<keyof Config, unknown>;
  for (const v of CONFIG_VARS) {
    const given = raw.get(v);
    config[v.key] =
      given !== undefined
        ? parseValue(v, given.value, given.source)
        : v.default === undefined
          ? undefined
          : parseValue(v, v.default, `default ${v.env}`);
  }
  const result = config as unknown as Config;
  if (result.redisUrl !== undefined) {
    // The value is never echoed: it may carry the Redis password.
    if (hasUnencodedUserinfo(result.redisUrl)) {
      throw new ConfigError(
        "REDIS_URL: the part before the host contains an unencoded @ # / or ?; percent-encode the password (@ is %40, # is %23, / is %2F, ? is %3F)",
      );
    }
    if (!validRedisUrl(result.redisUrl)) {
      throw new ConfigError(`REDIS_URL: expected redis://[:password@]host[:port][/db] or rediss://...`);
    }
  }
  try {
    parseTrustedOrigins(result.trustedOrigins);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (result.wsBackpressureBytes < result.maxWsMessageBytes) {
    throw new ConfigError(`WS_BACKPRESSURE_BYTES (${result.wsBackpressureBytes}) is below MAX_WS_MESSAGE_BYTES (${result.maxWsMessageBytes}): one echo would close the socket`);
  }
  if (result.faultLatencyMinMs > result.faultLatencyMaxMs) {
    throw new ConfigError(`FAULT_LATENCY_MIN_MS (${result.faultLatencyMinMs}) is above FAULT_LATENCY_MAX_MS (${result.faultLatencyMaxMs})`);
  }
  if (result.store === "redis" && !result.redisUrl && !result.redisHost) {
    throw new ConfigError(`STORE=redis: set REDIS_URL or REDIS_HOST`);
  }
  return { command, config: result };
}

/**
 * URL parsers end the userinfo at the first # / ? and take the last @ as its end, so an unencoded
 * one in a password silently moves part of the password into the host (or the fragment).
 */
function hasUnencodedUserinfo(value: string): boolean {
  const scheme = value.indexOf("://");
  if (scheme === -1) return false;
  const rest = value.slice(scheme + 3);
  if (rest.includes("#")) return true;
  const at = rest.lastIndexOf("@");
  return at !== -1 && /[@/?]/.test(rest.slice(0, at));
}

/** redis:// or rediss:// with a host, a valid port, and nothing `new URL` would reject later. */
function validRedisUrl(value: string): boolean {
  if (!/^rediss?:\/\//.test(value)) return false;
  try {
    return new URL(value).hostname !== "";
  } catch {
    return false;
  }
}

/** The settings that are not secret, by lower-case variable name (GET /config); unset is null. */
export function publicConfig(config: Config): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const v of CONFIG_VARS) if (!v.secret) shown[v.env.toLowerCase()] = config[v.key] ?? null;
  return shown;
}

/** An HMAC key shorter than this is guessable offline from one signed cookie. */
export const MIN_SESSION_SECRET_LENGTH = 32;

/** Settings that work but weaken the service; main.ts logs each as a warning at start. */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.sessionSecret !== undefined && config.sessionSecret.length < MIN_SESSION_SECRET_LENGTH) {
    warnings.push(
      `SESSION_SECRET is ${config.sessionSecret.length} characters; use at least ${MIN_SESSION_SECRET_LENGTH} random ones (openssl rand -hex 32)`,
    );
  }
  return warnings;
}

/** Host and port of a Redis given as a URL (wins) or host and port; never the password. */
export function redisEndpoint(url: string | undefined, host: string | undefined, port: number): { host: string; port: number } {
  if (url) {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: Number(parsed.port || 6379) };
  }
  return { host: host ?? "localhost", port };
}

/** Which store the config selects: Redis when a URL or host is given (or forced), else memory. */
export function selectedStore(config: Config): "memory" | "redis" {
  if (config.store !== "auto") return config.store;
  return config.redisUrl || config.redisHost ? "redis" : "memory";
}

export function helpText(version: string): string {
  const rows = CONFIG_VARS.map((v) => {
    const def = v.default === undefined ? "(unset)" : v.default;
    return `  ${(flagName(v) + " <value>").padEnd(36)} ${v.env}, default ${def}\n      ${v.description}`;
  });
  return [
    `bun-k8s ${version}: a teaching and demo workload for Kubernetes`,
    "",
    "Usage:",
    "  bun-k8s [flags]            serve HTTP (default)",
    "  bun-k8s healthcheck        GET /health on localhost:$PORT; exit 0 if healthy, else 1",
    "  bun-k8s --version          print version and revision",
    "  bun-k8s --help             this text",
    "",
    "Every flag is also an environment variable; flags win.",
    ...rows,
    "",
  ].join("\n");
}
