// src/modules/replicas: heartbeats listed from the shared store, on both stores.
import { expect, test } from "bun:test";
import { call, describeEachStore, testApp } from "../helpers/app";

describeEachStore("replicas", (makeStore) => {
  test("GET /replicas lists heartbeats", async () => {
    const store = await makeStore();
    const { app, deps } = testApp({ store });
    await store.heartbeat({ id: "pod-1", hostname: "pod-1", podIp: "1.2.3.4", version: "1", startedAt: "s", lastSeen: "l", requests: 5, visits: 1, cpu: 7.5, rss: 41_943_040, p50Ms: 1.2, p99Ms: 9.8 }, 30);
    const res = await call(app, "GET", "/replicas");
    expect(res.json).toMatchObject({ count: 1, replicas: [{ id: "pod-1", hostname: "pod-1", version: "1", startedAt: "s", requests: 5, visits: 1, cpu: 7.5, rss: 41_943_040, p50Ms: 1.2, p99Ms: 9.8 }], server: deps.hostname });
  });
});
