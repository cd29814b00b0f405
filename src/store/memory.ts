import { kvEntryBytes, type KvLimits, type KvSetResult, type ReplicaInfo, type Session, type Store } from "./types";

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

/** Embedded store for running without Redis: one process, nothing shared, nothing persisted. */
export class MemoryStore implements Store {
  readonly kind = "memory" as const;
  readonly location = { host: "memory", port: null };
  #visits = 0;
  #kv = new Map<string, Expiring<string> & { bytes: number }>();
  #kvBytes = 0;
  #sessions = new Map<string, Expiring<Session>>();
  #replicas = new Map<string, Expiring<ReplicaInfo>>();
  #now: () => number;
  #sessionWrites = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #live<T>(map: Map<string, Expiring<T>>, id: string): T | null {
    const entry = map.get(id);
    if (!entry) return null;
    if (entry.expiresAt <= this.#now()) {
      map.delete(id);
      return null;
    }
    return entry.value;
  }

  async incrementVisits() {
    return ++this.#visits;
  }
  async getVisits() {
    return this.#visits;
  }
  async kvGet(key: string) {
    const entry = this.#kv.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= this.#now()) {
      this.#kvRemove(key);
      return null;
    }
    return entry.value;
  }
  async kvSet(key: string, value: string, limits: KvLimits): Promise<KvSetResult> {
    const bytes = kvEntryBytes(key, value);
    let old = this.#kv.get(key);
    const fits = () => {
      if (!old && this.#kv.size >= limits.maxKeys) return "keys" as const;
      if (this.#kvBytes - (old?.bytes ?? 0) + bytes > limits.maxBytes) return "bytes" as const;
      return null;
    };
    let full = fits();
    if (full) {
      this.#sweepKv();
      old = this.#kv.get(key);
      full = fits();
    }
    if (full) return { stored: false, full };
    this.#kvBytes += bytes - (old?.bytes ?? 0);
    this.#kv.set(key, { value, bytes, expiresAt: this.#now() + limits.ttlSeconds * 1000 });
    return { stored: true };
  }
  async kvDelete(key: string) {
    const live = (await this.kvGet(key)) !== null;
    this.#kvRemove(key);
    return live;
  }
  async kvKeys(limit: number) {
    this.#sweepKv();
    return [...this.#kv.keys()].sort().slice(0, limit);
  }
  #kvRemove(key: string) {
    const entry = this.#kv.get(key);
    if (!entry) return;
    this.#kvBytes -= entry.bytes;
    this.#kv.delete(key);
  }
  #sweepKv() {
    const now = this.#now();
    for (const [key, entry] of this.#kv) if (entry.expiresAt <= now) this.#kvRemove(key);
  }
  async sessionCreate(id: string, session: Session, ttlSeconds: number) {
    this.#sessions.set(id, { value: { ...session }, expiresAt: this.#now() + ttlSeconds * 1000 });
    if (++this.#sessionWrites % 256 === 0) this.#sweep(this.#sessions);
  }
  async sessionGet(id: string) {
    const s = this.#live(this.#sessions, id);
    return s ? { ...s } : null;
  }
  async sessionDelete(id: string) {
    this.#sessions.delete(id);
  }
  async heartbeat(replica: ReplicaInfo, ttlSeconds: number) {
    this.#replicas.set(replica.id, { value: { ...replica }, expiresAt: this.#now() + ttlSeconds * 1000 });
  }
  async removeReplica(id: string) {
    this.#replicas.delete(id);
  }
  async listReplicas() {
    this.#sweep(this.#replicas);
    return [...this.#replicas.values()].map((e) => ({ ...e.value })).sort((a, b) => a.id.localeCompare(b.id));
  }
  async ping() {
    return true;
  }
  async close() {}

  // Expired sessions would otherwise pile up in a long-running process.
  #sweep<T>(map: Map<string, Expiring<T>>) {
    const now = this.#now();
    for (const [id, entry] of map) if (entry.expiresAt <= now) map.delete(id);
  }
}
