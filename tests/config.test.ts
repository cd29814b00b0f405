import { describe, expect, test } from "bun:test";
import { CONFIG_VARS, ConfigError, configWarnings, helpText, parseCli, redisEndpoint, selectedStore } from "../src/config";
import { configFrom } from "./helpers/app";

describe("config", () => {
  test("defaults are documented and typed", () => {
    const c = configFrom({});
    expect(c.port).toBe(8000);
    expect(c.appName).toBe("bun-k8s");
    expect(c.logLevel).toBe("info");
    expect(c.maxStressSeconds).toBe(60);
    expect(c.redisHost).toBeUndefined();
    expect(c.chaosEnabled).toBe(true);
    expect(selectedStore(c)).toBe("memory");
    for (const v of CONFIG_VARS) expect(v.description.length).toBeGreaterThan(5);
  });

  test("env vars are read and flags win over env", () => {
    const { config } = parseCli(["--port", "9001", "--log-level=debug", "--chaos-enabled"], {
      PORT: "7000",
      APP_NAME: "demo",
      CHAOS_ENABLED: "false",
      REDIS_HOST: "redis",
    });
    expect(config.port).toBe(9001);
    expect(config.logLevel).toBe("debug");
    expect(config.appName).toBe("demo");
    expect(config.chaosEnabled).toBe(true);
    expect(selectedStore(config)).toBe("redis");
  });

  test("REDIS_URL selects redis; STORE=memory forces memory", () => {
    expect(selectedStore(configFrom({ REDIS_URL: "redis://x:6379" }))).toBe("redis");
    expect(selectedStore(configFrom({ REDIS_URL: "redis://x:6379", STORE: "memory" }))).toBe("memory");
  });

  test.each([
    [{ PORT: "abc" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ LOG_LEVEL: "verbose" }, "LOG_LEVEL"],
    [{ MAX_STRESS_SECONDS: "-5" }, "MAX_STRESS_SECONDS"],
    [{ CHAOS_ENABLED: "maybe" }, "CHAOS_ENABLED"],
    [{ REDIS_URL: "http://x" }, "REDIS_URL"],
    [{ SESSION_TTL: "1.5" }, "SESSION_TTL"],
    [{ STORE: "redis" }, "STORE=redis"],
  ] as const)("invalid %p fails naming the variable", (env, name) => {
    expect(() => configFrom(env as Record<string, string>)).toThrow(ConfigError);
    expect(() => configFrom(env as Record<string, string>)).toThrow(name);
  });

  test.each(["redis://:s3cret@[bad:6379", "redis://:s3cret@host:99999", "redis://:s3cret@ho st:6379", "redis://"])(
    "a REDIS_URL that does not parse (%p) is a ConfigError that does not echo the password",
    (url) => {
      let error: unknown;
      try {
        configFrom({ REDIS_URL: url });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain("REDIS_URL");
      expect((error as Error).message).not.toContain("s3cret");
    },
  );

  test.each([
    "redis://:s3cr@et#frag@127.0.0.1:16399",
    "redis://:s3cr@et@127.0.0.1:16399",
    "redis://:s3cr#et@127.0.0.1:16399",
    "redis://user:pa/ss@127.0.0.1:16399",
    "redis://:pa?ss@127.0.0.1:16399",
  ])("a REDIS_URL with an unencoded @ # / ? in its password (%p) is refused and says to percent-encode", (url) => {
    let error: unknown;
    try {
      configFrom({ REDIS_URL: url });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain("REDIS_URL");
    expect(message).toContain("percent-encode");
    for (const piece of ["s3cr", "et", "frag", "pa", "ss", "16399"]) expect(message).not.toContain(`${piece}@`);
    expect(message).not.toContain("127.0.0.1");
  });

  test("a percent-encoded password is accepted and only the host becomes the endpoint", () => {
    const config = configFrom({ REDIS_URL: "redis://:s3cr%40et%23frag@127.0.0.1:16399/2" });
    expect(redisEndpoint(config.redisUrl, undefined, 6379)).toEqual({ host: "127.0.0.1", port: 16399 });
  });

  test("a SESSION_SECRET shorter than 32 characters is warned about, without showing it", () => {
    const warnings = configWarnings(configFrom({ SESSION_SECRET: "short-secret" }));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("SESSION_SECRET");
    expect(warnings[0]).not.toContain("short-secret");
    expect(configWarnings(configFrom({ SESSION_SECRET: "x".repeat(32) }))).toEqual([]);
    expect(configWarnings(configFrom({}))).toEqual([]);
  });

  test("unknown flags and stray arguments are rejected", () => {
    expect(() => parseCli(["--nope"], {})).toThrow("unknown flag --nope");
    expect(() => parseCli(["extra"], {})).toThrow("unexpected argument");
    expect(() => parseCli(["--port"], {})).toThrow("--port needs a value");
  });

  test("commands: help, version, healthcheck", () => {
    expect(parseCli(["--help"], {}).command).toBe("help");
    expect(parseCli(["-v"], {}).command).toBe("version");
    expect(parseCli(["healthcheck", "--port", "8100"], {})).toMatchObject({ command: "healthcheck", config: { port: 8100 } });
  });

  test("help lists every variable and flag", () => {
    const text = helpText("1.2.3");
    for (const v of CONFIG_VARS) {
      expect(text).toContain(v.env);
      expect(text).toContain("--" + v.env.toLowerCase().replaceAll("_", "-"));
    }
  });
});
