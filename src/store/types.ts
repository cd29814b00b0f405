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
  requests: number;
  visits: number;
}

/** Shared state. Redis in a cluster, in-memory for a single process. Same contract for both. */
export interface Store {
  readonly kind: "memory" | "redis";
  /** Where the state lives, for /config and /visits ("memory" or host:port). */
  readonly location: { host: string; port: number | null };
  incrementVisits(): Promise<number>;
  getVisits(): Promise<number>;
  kvGet(key: string): Promise<string | null>;
  kvSet(key: string, value: string): Promise<void>;
  /** True when the key existed. */
  kvDelete(key: string): Promise<boolean>;
  /** Up to `limit` keys, sorted. */
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
