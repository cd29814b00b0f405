import type { createClient } from "redis";
import { redisEndpoint } from "../config";
import type { Logger } from "../logger";
import { StoreUnavailableError, type ReplicaInfo, type Session, type Store } from "./types";

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

// Bounds what piles up while Redis is hung (SIGSTOP, partition): past this, commands fail at once.
const MAX_PENDING_COMMANDS = 1000;
const SCAN_COUNT = 200;

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

  /** Keys that start with `prefix` (glob characters in it are escaped, so it matches literally). */
  async #scan(prefix: string, limit: number): Promise<string[]> {
    const pattern = prefix.replace(/[*?[\]\\]/g, "\\$&") + "*";
    const found = new Set<string>();
    let cursor = "0";
    do {
      const reply = await this.#c.scan(cursor, { MATCH: pattern, COUNT: SCAN_COUNT });
      cursor = String(reply.cursor);
      for (const key of reply.keys) found.add(String(key));
    } while (cursor !== "0" && found.size < limit);
    return [...found];
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
  kvSet(key: string, value: string) {
    return this.#run(async () => {
      await this.#c.set(this.#key("kv:", key), value);
    });
  }
  kvDelete(key: string) {
    return this.#run(async () => (await this.#c.del(this.#key("kv:", key))) > 0);
  }
  kvKeys(limit: number) {
    return this.#run(async () => {
      const prefix = this.#key("kv:");
      const keys = await this.#scan(prefix, limit);
      return keys.map((k) => k.slice(prefix.length)).sort().slice(0, limit);
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
      await this.#c.set(this.#key("replica:", replica.id), JSON.stringify(replica), { EX: ttlSeconds });
    });
  }
  removeReplica(id: string) {
    return this.#run(async () => {
      await this.#c.del(this.#key("replica:", id));
    });
  }
  listReplicas() {
    return this.#run(async () => {
      const keys = await this.#scan(this.#key("replica:"), 1000);
      if (keys.length === 0) return [];
      const values = await this.#c.mGet(keys);
      return values
        .map((v) => (v === null ? null : parseOrNull<ReplicaInfo>(String(v))))
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
