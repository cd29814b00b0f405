// src/modules/visits: the shared counter, on both stores.
import { expect, test } from "bun:test";
import { call, describeEachStore, testApp } from "../helpers/app";

describeEachStore("visits", (makeStore) => {
  test("GET /visits increments a shared counter; /visits/count reads it", async () => {
    const store = await makeStore();
    const a = testApp({ store }).app;
    const b = testApp({ store }).app;
    const first = await call(a, "GET", "/visits");
    expect(first.json).toMatchObject({ visits: 1, server: "test-host" });
    expect(first.json).toHaveProperty("redis_host");
    expect((await call(b, "GET", "/visits")).json.visits).toBe(2);
    expect((await call(a, "GET", "/visits/count")).json.visits).toBe(2);
    expect((await call(a, "GET", "/visits/count")).json.visits).toBe(2);
  });

});
