// app.handle() helpers: an app with injectable parts, a request helper, and Redis stores per test.
import { afterAll, describe } from "bun:test";
import { configFrom, offlineDeps } from "../../scripts/lib/app";
import { createApp } from "../../src/app";
import type { AppDeps } from "../../src/deps";
import { silentLogger } from "../../src/logger";
import { MemoryStore } from "../../src/store/memory";
import { RedisStore } from "../../src/store/redis";
import type { Store } from "../../src/store/types";

export { configFrom };

export const BASE = "http://localhost";

export interface TestAppOptions {
  env?: Record<string, string>;
  store?: Store;
  exit?: (code: number) => void;
  podEnv?: Record<string, string>;
}

export function testDeps(options: TestAppOptions = {}): AppDeps {
  return offlineDeps(options.env, {
    ...(options.store ? { store: options.store } : {}),
    ...(options.exit ? { exit: options.exit } : {}),
    ...(options.podEnv ? { env: options.podEnv } : {}),
  });
}

export function testApp(options: TestAppOptions = {}) {
  const deps = testDeps(options);
  return { app: createApp(deps), deps };
}

let prefixCounter = 0;
/** A Redis store on the test server, isolated by a fresh key prefix. */
export async function testRedisStore(overrides: { url?: string; timeoutMs?: number; password?: string } = {}): Promise<RedisStore> {
  const url = overrides.url ?? process.env.TEST_REDIS_URL;
  if (!url) throw new Error("TEST_REDIS_URL is not set: tests/setup.ts should have started redis-server");
  const store = new RedisStore({
    url,
    port: 6379,
    password: overrides.password,
    keyPrefix: `test:${process.pid}:${Date.now()}:${++prefixCounter}:`,
    timeoutMs: overrides.timeoutMs ?? 500,
    logger: silentLogger,
  });
  store.connect();
  await store.waitUntilReady(5000);
  return store;
}

export async function call(
  app: { handle(req: Request): Promise<Response> },
  method: string,
  path: string,
  init: { json?: unknown; body?: BodyInit; headers?: Record<string, string> } = {},
) {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  // A real client sends Content-Length; Request() in tests does not add it by itself.
  if (typeof body === "string") headers.set("content-length", String(Buffer.byteLength(body)));
  const res = await app.handle(new Request(BASE + path, { method, headers, body }));
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * The two Store implementations, for suites that must pass on each. Redis stores are isolated by
 * key prefix on the test server; call closeAll() in afterAll.
 */
export function bothStores() {
  const opened: Store[] = [];
  const kinds: Array<[name: "memory" | "redis", make: () => Promise<Store>]> = [
    ["memory", async () => new MemoryStore()],
    ["redis", async () => {
      const store = await testRedisStore();
      opened.push(store);
      return store;
    }],
  ];
  return { kinds, closeAll: async () => void (await Promise.all(opened.map((s) => s.close()))) };
}

/** One describe per store kind (`${title} (memory store)`, `(redis store)`), closing the Redis stores after. */
export function describeEachStore(title: string, body: (makeStore: () => Promise<Store>, kind: "memory" | "redis") => void) {
  const stores = bothStores();
  afterAll(stores.closeAll);
  for (const [kind, makeStore] of stores.kinds) describe(`${title} (${kind} store)`, () => body(makeStore, kind));
}
