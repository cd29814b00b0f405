import { selectedStore, type Config } from "../config";
import type { Logger } from "../logger";
import { MemoryStore } from "./memory";
import { RedisStore } from "./redis";
import type { Store } from "./types";

/** Redis when configured, else the embedded in-memory store. Connects in the background. */
export function createStore(config: Config, logger: Logger): Store {
  if (selectedStore(config) === "memory") {
    logger.info("store: embedded in-memory (set REDIS_URL or REDIS_HOST to share state across replicas)");
    return new MemoryStore();
  }
  const store = new RedisStore({
    url: config.redisUrl,
    host: config.redisHost,
    port: config.redisPort,
    password: config.redisPassword,
    keyPrefix: config.redisKeyPrefix,
    timeoutMs: config.redisTimeoutMs,
    logger,
  });
  logger.info("store: redis", { host: store.location.host, port: store.location.port });
  store.connect();
  return store;
}
