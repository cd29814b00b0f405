// One contract, two implementations: the embedded store must behave like Redis.
import { afterAll, describe, expect, test } from "bun:test";
import type { ReplicaInfo } from "../../src/store/types";
import { bothStores } from "../helpers/app";

const replica = (id: string): ReplicaInfo => ({
  id,
  hostname: id,
  podIp: "10.0.0.1",
  version: "1.0.0",
  startedAt: new Date().toISOString(),
  lastSeen: new Date().toISOString(),
  requests: 3,
  visits: 2,
});

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
      await s.kvSet("a", "1");
      await s.kvSet("b", "two words");
      await s.kvSet("a", "one");
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
      await s.kvSet(key, value);
      expect(await s.kvGet(key)).toBe(value);
      expect(await s.kvKeys(10)).toContain(key);
      await s.kvSet("", "");
      expect(await s.kvGet("")).toBe("");
    });

    test("kv keys cannot reach sessions, visits or replicas", async () => {
      const s = await make();
      await s.sessionCreate("abc", { username: "alice", createdAt: "t" }, 60);
      await s.incrementVisits();
      await s.kvSet("session:abc", "evil");
      await s.kvSet("visits", "999");
      await s.kvSet("../session:abc", "evil");
      expect(await s.sessionGet("abc")).toEqual({ username: "alice", createdAt: "t" });
      expect(await s.getVisits()).toBe(1);
      expect(await s.kvKeys(10)).toEqual(["../session:abc", "session:abc", "visits"]);
    });

    test("ping answers true when the backend is up", async () => {
      const s = await make();
      expect(await s.ping()).toBe(true);
    });
  });
}

// TTLs are whole seconds, so each wait costs a second: both stores wait at the same time.
test("Store contract (both): sessions and replica heartbeats expire after their TTL, and can be deleted", async () => {
  await Promise.all(
    stores.kinds.map(async ([, make]) => {
      const s = await make();
      await s.sessionCreate("short", { username: "bob", createdAt: "t" }, 1);
      await s.sessionCreate("long", { username: "carol", createdAt: "t" }, 60);
      await s.heartbeat(replica("pod-b"), 60);
      await s.heartbeat(replica("pod-a"), 1);
      expect((await s.sessionGet("short"))?.username).toBe("bob");
      expect((await s.listReplicas()).map((r) => r.id)).toEqual(["pod-a", "pod-b"]);
      const [first] = await s.listReplicas();
      expect(first).toMatchObject({ id: "pod-a", hostname: "pod-a", podIp: "10.0.0.1", requests: 3, visits: 2 });
      await Bun.sleep(1100);
      expect(await s.sessionGet("short")).toBeNull();
      expect((await s.sessionGet("long"))?.username).toBe("carol");
      expect((await s.listReplicas()).map((r) => r.id)).toEqual(["pod-b"]);
      await s.sessionDelete("long");
      expect(await s.sessionGet("long")).toBeNull();
      expect(await s.sessionGet("never")).toBeNull();
      await s.removeReplica("pod-b");
      expect(await s.listReplicas()).toEqual([]);
    }),
  );
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
