import type { ReplicaInfo, Session, Store } from "./types";

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

/** Embedded store for running without Redis: one process, nothing shared, nothing persisted. */
export class MemoryStore implements Store {
  readonly kind = "memory" as const;
  readonly location = { host: "memory", port: null };
  #visits = 0;
  #kv = new Map<string, string>();
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
    return this.#kv.get(key) ?? null;
  }
  async kvSet(key: string, value: string) {
    this.#kv.set(key, value);
  }
  async kvDelete(key: string) {
    return this.#kv.delete(key);
  }
  async kvKeys(limit: number) {
    return [...this.#kv.keys()].sort().slice(0, limit);
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
