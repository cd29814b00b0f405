// One contract, two implementations: the embedded store must behave like Redis.
import { afterAll, describe, expect, test } from "bun:test";
import type { KvLimits, ReplicaInfo } from "../../src/store/types";
import { bothStores, testRedisStore } from "../helpers/app";

const replica = (id: string): ReplicaInfo => ({
  id,
  hostname: id,
  podIp: "10.0.0.1",
  version: "1.0.0",
  startedAt: new Date().toISOString(),
  lastSeen: new Date().toISOString(),
  requests: 3,
  visits: 2,
  cpu: 12.5,
  rss: 52_428_800,
  p50Ms: 0.8,
  p99Ms: null,
});

const LIMITS: KvLimits = { maxKeys: 100, maxBytes: 1 << 20, ttlSeconds: 60 };
const stores = bothStores();
afterAll(stores.closeAll);

for (const [name, make] of stores.kinds) {
  describe(`Store contract: ${name}`, () => {
    test("visits start at 0 and increment atomically under concurrency", async () => {
      const s = await make();
      expect(await s.getVisits()).toBe(0);
      const results = await Promise.all(Array.from({ length: 50 }, () => s.incrementVisits()));
      expect(new Set(results).size).toBe(50);
      expect(Math.max(...results)).toBe(50);
      expect(await s.getVisits()).toBe(50);
    });

    test("kv set, get, overwrite, list, delete", async () => {
      const s = await make();
      expect(await s.kvGet("a")).toBeNull();
      await s.kvSet("a", "1", LIMITS);
      await s.kvSet("b", "two words", LIMITS);
      await s.kvSet("a", "one", LIMITS);
      expect(await s.kvGet("a")).toBe("one");
      expect(await s.kvKeys(10)).toEqual(["a", "b"]);
      expect(await s.kvKeys(1)).toEqual(["a"]);
      expect(await s.kvDelete("a")).toBe(true);
      expect(await s.kvDelete("a")).toBe(false);
      expect(await s.kvGet("a")).toBeNull();
    });

    test("kv keeps odd keys and values byte for byte", async () => {
      const s = await make();
      const key = "ünï code * ? [x] \\ :session:";
      const value = '{"json":true}\n<b>html</b> 🚀 ' + "x".repeat(1000);
      await s.kvSet(key, value, LIMITS);
      expect(await s.kvGet(key)).toBe(value);
      expect(await s.kvKeys(10)).toContain(key);
      await s.kvSet("", "", LIMITS);
      expect(await s.kvGet("")).toBe("");
    });

    test("kv keys cannot reach sessions, visits or replicas", async () => {
      const s = await make();
      await s.sessionCreate("abc", { username: "alice", createdAt: "t" }, 60);
      await s.incrementVisits();
      await s.kvSet("session:abc", "evil", LIMITS);
      await s.kvSet("visits", "999", LIMITS);
      await s.kvSet("../session:abc", "evil", LIMITS);
      expect(await s.sessionGet("abc")).toEqual({ username: "alice", createdAt: "t" });
      expect(await s.getVisits()).toBe(1);
      expect(await s.kvKeys(10)).toEqual(["../session:abc", "session:abc", "visits"]);
    });

    test("kv caps the number of keys; overwriting or deleting a key makes room", async () => {
      const s = await make();
      const limits = { ...LIMITS, maxKeys: 3 };
      for (const key of ["a", "b", "c"]) expect(await s.kvSet(key, "v", limits)).toEqual({ stored: true });
      expect(await s.kvSet("d", "v", limits)).toEqual({ stored: false, full: "keys" });
      expect(await s.kvGet("d")).toBeNull();
      expect(await s.kvSet("a", "new", limits)).toEqual({ stored: true });
      expect(await s.kvDelete("b")).toBe(true);
      expect(await s.kvSet("d", "v", limits)).toEqual({ stored: true });
      expect(await s.kvKeys(10)).toEqual(["a", "c", "d"]);
    });

    test("kv caps the total bytes of keys and values; a smaller overwrite frees bytes", async () => {
      const s = await make();
      const limits = { ...LIMITS, maxBytes: 100 };
      expect(await s.kvSet("k1", "x".repeat(48), limits)).toEqual({ stored: true }); // 50 bytes
      expect(await s.kvSet("k2", "é".repeat(24), limits)).toEqual({ stored: true }); // 2 + 48 bytes
      expect(await s.kvSet("k3", "", limits)).toEqual({ stored: false, full: "bytes" });
      expect(await s.kvSet("k1", "x".repeat(49), limits)).toEqual({ stored: false, full: "bytes" });
      expect(await s.kvGet("k1")).toBe("x".repeat(48));
      expect(await s.kvSet("k1", "x", limits)).toEqual({ stored: true });
      expect(await s.kvSet("k3", "x".repeat(40), limits)).toEqual({ stored: true });
      expect(await s.kvDelete("k2")).toBe(true);
      expect(await s.kvSet("k4", "x".repeat(40), limits)).toEqual({ stored: true });
    });

    test("ping answers true when the backend is up", async () => {
      const s = await make();
      expect(await s.ping()).toBe(true);
    });
  });
}

// TTLs are whole seconds, so each wait costs a second: both stores wait at the same time.
test("Store contract (both): sessions, replica heartbeats and kv keys expire after their TTL, and can be deleted", async () => {
  await Promise.all(
    stores.kinds.map(async ([, make]) => {
      const s = await make();
      await s.sessionCreate("short", { username: "bob", createdAt: "t" }, 1);
      await s.sessionCreate("long", { username: "carol", createdAt: "t" }, 60);
      await s.heartbeat(replica("pod-b"), 60);
      await s.heartbeat(replica("pod-a"), 1);
      const kvLimits = { ...LIMITS, maxKeys: 2, ttlSeconds: 1 };
      await s.kvSet("old1", "v", kvLimits);
      await s.kvSet("old2", "v", kvLimits);
      expect(await s.kvSet("new", "v", kvLimits)).toEqual({ stored: false, full: "keys" });
      expect((await s.sessionGet("short"))?.username).toBe("bob");
      expect((await s.listReplicas()).map((r) => r.id)).toEqual(["pod-a", "pod-b"]);
      const [first] = await s.listReplicas();
      expect(first).toMatchObject({ id: "pod-a", hostname: "pod-a", podIp: "10.0.0.1", requests: 3, visits: 2 });
      // The process figures the charts draw come back as written, null included.
      expect(first).toMatchObject({ cpu: 12.5, rss: 52_428_800, p50Ms: 0.8, p99Ms: null });
      await Bun.sleep(1100);
      expect(await s.sessionGet("short")).toBeNull();
      expect((await s.sessionGet("long"))?.username).toBe("carol");
      expect((await s.listReplicas()).map((r) => r.id)).toEqual(["pod-b"]);
      await s.sessionDelete("long");
      expect(await s.sessionGet("long")).toBeNull();
      expect(await s.sessionGet("never")).toBeNull();
      await s.removeReplica("pod-b");
      expect(await s.listReplicas()).toEqual([]);
      // What expired no longer counts against the kv caps.
      expect(await s.kvGet("old1")).toBeNull();
      expect(await s.kvKeys(10)).toEqual([]);
      expect(await s.kvSet("new", "v", kvLimits)).toEqual({ stored: true });
      expect(await s.kvDelete("old2")).toBe(false);
      expect(await s.kvKeys(10)).toEqual(["new"]);
    }),
  );
});

describe("Redis store: the kv index", () => {
  test("listing kv keys and replicas never SCANs the keyspace, however many other keys there are", async () => {
    const { createClient } = await import("redis");
    const store = await testRedisStore();
    const raw = createClient({ url: process.env.TEST_REDIS_URL });
    await raw.connect();
    try {
      for (let i = 0; i < 20; i++) await store.sessionCreate(`s${i}`, { username: "u", createdAt: "t" }, 60);
      await store.kvSet("listed", "v", LIMITS);
      const scans = async () => Number((await raw.info("commandstats")).match(/cmdstat_scan:calls=(\d+)/)?.[1] ?? 0);
      const before = await scans();
      await store.heartbeat(replica("listed-pod"), 60);
      expect(await store.kvKeys(10)).toEqual(["listed"]);
      expect((await store.listReplicas()).map((r) => r.id)).toEqual(["listed-pod"]);
      expect(await scans()).toBe(before);
    } finally {
      await raw.close();
      await store.close();
    }
  });
});

describe("Redis store: foreign values", () => {
  test("a malformed session or heartbeat under our prefix reads as absent, not as Redis down", async () => {
    const { createClient } = await import("redis");
    const prefix = `foreign:${Date.now()}:`;
    const { RedisStore } = await import("../../src/store/redis");
    const { silentLogger } = await import("../../src/logger");
    const store = new RedisStore({ url: process.env.TEST_REDIS_URL, port: 6379, keyPrefix: prefix, timeoutMs: 500, logger: silentLogger });
    store.connect();
    await store.waitUntilReady(5000);
    const raw = createClient({ url: process.env.TEST_REDIS_URL });
    await raw.connect();
    try {
      await raw.set(`${prefix}session:bad`, "{not json");
      await raw.set(`${prefix}replica:bad`, "<html>");
      await store.heartbeat(replica("good"), 60);
      expect(await store.sessionGet("bad")).toBeNull();
      expect((await store.listReplicas()).map((r) => r.id)).toEqual(["good"]);
    } finally {
      await raw.close();
      await store.close();
    }
  });
});
