import type { createClient } from "redis";
import { redisEndpoint } from "../config";
import type { Logger } from "../logger";
import { kvEntryBytes, StoreUnavailableError, type KvLimits, type KvSetResult, type ReplicaInfo, type Session, type Store } from "./types";

function buildClient(create: typeof createClient, options: RedisStoreOptions) {
  return create({
    url: options.url,
    password: options.password || undefined,
    // Fail fast instead of queueing while disconnected: routes answer 503 within the timeout.
    disableOfflineQueue: true,
    commandsQueueMaxLength: MAX_PENDING_COMMANDS,
    commandOptions: { timeout: options.timeoutMs },
    pingInterval: 5000,
    socket: {
      ...(options.url ? {} : { host: options.host, port: options.port }),
      connectTimeout: options.timeoutMs,
      // Reconnect forever with capped backoff; Redis coming back heals the service by itself.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2000),
    },
  });
}

type RedisClient = ReturnType<typeof buildClient>;

/** A value some other writer left under our prefix is treated as absent, not as Redis being down. */
function parseOrNull<T>(raw: string): T | null {
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}

export interface RedisStoreOptions {
  url?: string;
  host?: string;
  port: number;
  password?: string;
  keyPrefix: string;
  /** Connect timeout and per-command timeout. */
  timeoutMs: number;
  logger: Logger;
}

// The kv namespace is indexed, so listing and the caps cost what the kv data costs, never a SCAN
// of the whole keyspace. KEYS: 1 index (sorted set: key -> expiry in ms, Redis' clock), 2 sizes
// (hash: key -> bytes), 3 total bytes, 4 the value's own key. ARGV[1] is the value-key prefix.
// Each script first forgets up to 100 entries whose TTL has passed (Redis deleted their values).
const KV_FORGET_EXPIRED = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
for _, k in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('DECRBY', KEYS[3], tonumber(redis.call('HGET', KEYS[2], k) or '0'))
  redis.call('HDEL', KEYS[2], k)
  redis.call('ZREM', KEYS[1], k)
  redis.call('DEL', ARGV[1] .. k)
end
`;
// ARGV: 2 key, 3 value, 4 bytes, 5 ttl ms, 6 max keys, 7 max bytes. Returns 1, 'keys' or 'bytes'.
const KV_SET = KV_FORGET_EXPIRED + `
local old = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '-1')
if old < 0 and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[6]) then return 'keys' end
local total = tonumber(redis.call('GET', KEYS[3]) or '0')
local size = tonumber(ARGV[4])
if total - math.max(old, 0) + size > tonumber(ARGV[7]) then return 'bytes' end
redis.call('SET', KEYS[4], ARGV[3], 'PX', ARGV[5])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[5]), ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], size)
redis.call('INCRBY', KEYS[3], size - math.max(old, 0))
return 1
`;
// ARGV: 2 key. Returns 1 when the key existed.
const KV_DELETE = KV_FORGET_EXPIRED + `
redis.call('DECRBY', KEYS[3], tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0'))
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[1], ARGV[2])
return redis.call('DEL', KEYS[4])
`;
// Every live key: at most KvLimits.maxKeys of them.
const KV_LIST = KV_FORGET_EXPIRED + `
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
`;

// Replicas are indexed the same way (sorted set: id -> expiry), so /replicas, which the dashboard
// polls, never SCANs either. KEYS: 1 index, 2 the replica's key (heartbeat). ARGV[1]: key prefix.
const NOW_MS = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
`;
// ARGV: 2 id, 3 JSON, 4 ttl seconds.
const REPLICA_HEARTBEAT = NOW_MS + `
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]) * 1000, ARGV[2])
`;
// The JSON of every live replica, at most 1000.
const REPLICA_LIST = NOW_MS + `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, 999)) do
  local v = redis.call('GET', ARGV[1] .. id)
  if v then out[#out + 1] = v end
end
return out
`;

// Bounds what piles up while Redis is hung (SIGSTOP, partition): past this, commands fail at once.
const MAX_PENDING_COMMANDS = 1000;

export class RedisStore implements Store {
  readonly kind = "redis" as const;
  readonly location: { host: string; port: number | null };
  #client: RedisClient | undefined;
  readonly #options: RedisStoreOptions;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  #connected = false;
  #closing = false;

  constructor(options: RedisStoreOptions) {
    this.#options = options;
    this.#prefix = options.keyPrefix;
    this.#log = options.logger;
    this.#timeoutMs = options.timeoutMs;
    this.location = redisEndpoint(options.url, options.host, options.port);
  }

  /**
   * Starts connecting in the background; the service starts even when Redis is down.
   * node-redis is loaded here rather than at import: evaluating it takes about 25 ms, which
   * would otherwise delay the first answer to /ready.
   */
  connect(): void {
    void this.#open();
  }

  async #open() {
    const { createClient } = await import("redis");
    if (this.#closing) return;
    const client = buildClient(createClient, this.#options);
    client.on("error", (err: Error) => {
      if (this.#connected) this.#log.warn("redis error", { error: err.message });
      this.#connected = false;
    });
    client.on("ready", () => {
      if (!this.#connected) this.#log.info("redis connected", this.location);
      this.#connected = true;
    });
    client.on("end", () => {
      this.#connected = false;
    });
    this.#client = client;
    client.connect().catch((err: Error) => {
      if (!this.#closing) this.#log.warn("redis not reachable yet, retrying in the background", { error: err.message });
    });
  }

  /** The client, once loaded; only called inside #run, which checks readiness first. */
  get #c(): RedisClient {
    if (!this.#client) throw new StoreUnavailableError("not connected");
    return this.#client;
  }

  /** Resolves once connected, or rejects after `timeoutMs`. */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#client?.isReady) {
      if (Date.now() > deadline) throw new StoreUnavailableError("not connected");
      await Bun.sleep(10);
    }
  }

  // node-redis only times out commands that are not yet written to the socket; a hung server
  // (SIGSTOP, partition) would hold written ones until its 5 s default or forever. So every
  // call races its own timer. A late reply is dropped; the queue bound caps what piles up.
  async #run<T>(command: () => Promise<T>): Promise<T> {
    if (!this.#client?.isReady) throw new StoreUnavailableError("not connected");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no reply within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      return await Promise.race([command(), timeout]);
    } catch (err) {
      throw new StoreUnavailableError(err);
    } finally {
      clearTimeout(timer);
    }
  }

  #key(kind: string, id = ""): string {
    return `${this.#prefix}${kind}${id}`;
  }

  incrementVisits() {
    return this.#run(() => this.#c.incr(this.#key("visits")));
  }
  getVisits() {
    return this.#run(async () => Number((await this.#c.get(this.#key("visits"))) ?? 0));
  }
  kvGet(key: string) {
    return this.#run(async () => {
      const value = await this.#c.get(this.#key("kv:", key));
      return value === null ? null : String(value);
    });
  }
  #kvScript(script: string, key: string, args: Array<string | number>) {
    return this.#c.eval(script, {
      keys: [this.#key("kv-index"), this.#key("kv-sizes"), this.#key("kv-bytes"), this.#key("kv:", key)],
      arguments: [this.#key("kv:"), ...args.map(String)],
    });
  }
  kvSet(key: string, value: string, limits: KvLimits): Promise<KvSetResult> {
    return this.#run(async () => {
      const reply = await this.#kvScript(KV_SET, key, [key, value, kvEntryBytes(key, value), limits.ttlSeconds * 1000, limits.maxKeys, limits.maxBytes]);
      return reply === "keys" || reply === "bytes" ? { stored: false as const, full: reply } : { stored: true as const };
    });
  }
  kvDelete(key: string) {
    return this.#run(async () => Number(await this.#kvScript(KV_DELETE, key, [key])) > 0);
  }
  kvKeys(limit: number) {
    return this.#run(async () => {
      const keys = (await this.#kvScript(KV_LIST, "", [])) as unknown[];
      return keys.map(String).sort().slice(0, limit);
    });
  }
  sessionCreate(id: string, session: Session, ttlSeconds: number) {
    return this.#run(async () => {
      await this.#c.set(this.#key("session:", id), JSON.stringify(session), { EX: ttlSeconds });
    });
  }
  sessionGet(id: string) {
    return this.#run(async () => {
      const raw = await this.#c.get(this.#key("session:", id));
      return raw === null ? null : parseOrNull<Session>(String(raw));
    });
  }
  sessionDelete(id: string) {
    return this.#run(async () => {
      await this.#c.del(this.#key("session:", id));
    });
  }
  heartbeat(replica: ReplicaInfo, ttlSeconds: number) {
    return this.#run(async () => {
      await this.#c.eval(REPLICA_HEARTBEAT, {
        keys: [this.#key("replica-index"), this.#key("replica:", replica.id)],
        arguments: [this.#key("replica:"), replica.id, JSON.stringify(replica), String(ttlSeconds)],
      });
    });
  }
  removeReplica(id: string) {
    return this.#run(async () => {
      await this.#c.multi().del(this.#key("replica:", id)).zRem(this.#key("replica-index"), id).exec();
    });
  }
  listReplicas() {
    return this.#run(async () => {
      const values = (await this.#c.eval(REPLICA_LIST, { keys: [this.#key("replica-index")], arguments: [this.#key("replica:")] })) as unknown[];
      return values
        .map((v) => parseOrNull<ReplicaInfo>(String(v)))
        .filter((r): r is ReplicaInfo => r !== null)
        .sort((a, b) => a.id.localeCompare(b.id));
    });
  }
  async ping() {
    try {
      await this.#run(() => this.#c.ping());
      return true;
    } catch {
      return false;
    }
  }
  /** Graceful QUIT when Redis answers in time, else drop the socket: shutdown never hangs on Redis. */
  async close() {
    this.#closing = true;
    const client = this.#client;
    if (!client?.isOpen) return;
    const quit = client.isReady ? client.close().then(() => true, () => false) : Promise.resolve(false);
    const closed = await Promise.race([quit, Bun.sleep(this.#timeoutMs).then(() => false)]);
    if (!closed) client.destroy();
  }
}
