// Preloaded by bunfig.toml: one real redis-server for the whole run, unless REDIS_URL is set.
// Tests read TEST_REDIS_URL and isolate themselves with their own key prefix.
import { afterAll } from "bun:test";
import { startRedis, stopRedis, type RedisProcess } from "../scripts/lib/redis";

let owned: RedisProcess | undefined;
if (!process.env.TEST_REDIS_URL) {
  if (process.env.REDIS_URL) {
    process.env.TEST_REDIS_URL = process.env.REDIS_URL;
  } else {
    owned = await startRedis();
    process.env.TEST_REDIS_URL = owned.url;
  }
}
// The service under test must not pick these up from the developer's shell.
delete process.env.REDIS_URL;
delete process.env.REDIS_HOST;

afterAll(async () => {
  if (owned) await stopRedis(owned);
});
