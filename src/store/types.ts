export interface Session {
  username: string;
  createdAt: string;
}

export interface ReplicaInfo {
  id: string;
  hostname: string;
  podIp: string;
  version: string;
  startedAt: string;
  lastSeen: string;
  /** Requests this replica answered since it started (the dashboard derives a rate per pod). */
  requests: number;
  visits: number;
  /** CPU of the whole process over the last heartbeat interval, in percent of one core (100 = 1000m). */
  cpu: number;
  /** Resident set size in bytes when the beat was written. */
  rss: number;
  /** Server-side latency of the requests answered in the last interval (RED histogram), ms; null when none. */
  p50Ms: number | null;
  p99Ms: number | null;
}

/** Bounds of the /kv namespace, so no client can fill the store that sessions and counters share. */
export interface KvLimits {
  maxKeys: number;
  /** Keys plus values, in UTF-8 bytes. */
  maxBytes: number;
  /** Every write (re)starts the key's lifetime. */
  ttlSeconds: number;
}

/** kvSet either stored the value or refused it because the namespace is full. */
export type KvSetResult = { stored: true } | { stored: false; full: "keys" | "bytes" };

/** Bytes a kv entry counts against KvLimits.maxBytes. */
export const kvEntryBytes = (key: string, value: string) => Buffer.byteLength(key, "utf8") + Buffer.byteLength(value, "utf8");

/** Shared state. Redis in a cluster, in-memory for a single process. Same contract for both. */
export interface Store {
  readonly kind: "memory" | "redis";
  /** Where the state lives, for /config and /visits ("memory" or host:port). */
  readonly location: { host: string; port: number | null };
  incrementVisits(): Promise<number>;
  getVisits(): Promise<number>;
  kvGet(key: string): Promise<string | null>;
  /** Stores unless a new key would pass limits.maxKeys or the total would pass limits.maxBytes. */
  kvSet(key: string, value: string, limits: KvLimits): Promise<KvSetResult>;
  /** True when the key existed. */
  kvDelete(key: string): Promise<boolean>;
  /** Up to `limit` live keys, sorted; costs what the kv data costs, not what the whole store holds. */
  kvKeys(limit: number): Promise<string[]>;
  sessionCreate(id: string, session: Session, ttlSeconds: number): Promise<void>;
  sessionGet(id: string): Promise<Session | null>;
  sessionDelete(id: string): Promise<void>;
  heartbeat(replica: ReplicaInfo, ttlSeconds: number): Promise<void>;
  removeReplica(id: string): Promise<void>;
  listReplicas(): Promise<ReplicaInfo[]>;
  /** Resolves true when the backend answers. Never throws. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** The backend is down, hung or unreachable: routes answer 503, the process stays up. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
  constructor(cause?: unknown) {
    super(`store unavailable: ${cause instanceof Error ? cause.message : String(cause ?? "unknown")}`);
    this.cause = cause;
  }
}
