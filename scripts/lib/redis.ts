// Starts and controls real redis-server processes for tests and drills.
import { spawn, type Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export function redisServerPath(): string {
  const path = Bun.which("redis-server") ?? (Bun.file("/usr/bin/redis-server").size ? "/usr/bin/redis-server" : null);
  if (!path) {
    throw new Error(
      "redis-server is not installed: the tests need a real Redis. Install it (Debian/Ubuntu: `sudo apt-get install -y redis-server`, macOS: `brew install redis`) or set REDIS_URL to a server you own.",
    );
  }
  return path;
}

export interface RedisProcess {
  port: number;
  url: string;
  password?: string;
  dir: string;
  proc: Subprocess;
  stop(signal?: NodeJS.Signals): Promise<void>;
  pause(): void;
  resume(): void;
  restart(): Promise<void>;
}

export interface RedisOptions {
  password?: string;
  appendonly?: boolean;
  port?: number;
  dir?: string;
  /** More redis-server arguments, e.g. ["--maxmemory", "24mb", "--maxmemory-policy", "noeviction"]. */
  args?: string[];
}

async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      return;
    } catch {
      await Bun.sleep(20);
    }
  }
  throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisProcess> {
  const bin = redisServerPath();
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "bun-k8s-redis-"));
  const args = [
    "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir,
    "--appendonly", options.appendonly ? "yes" : "no", "--daemonize", "no", "--loglevel", "warning",
  ];
  if (options.password) args.push("--requirepass", options.password);
  args.push(...(options.args ?? []));
  const launch = () => spawn([bin, ...args], { stdout: "ignore", stderr: "inherit" });
  const handle: RedisProcess = {
    port,
    dir,
    password: options.password,
    url: options.password ? `redis://:${encodeURIComponent(options.password)}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`,
    proc: launch(),
    async stop(signal = "SIGTERM") {
      handle.proc.kill(signal === "SIGSTOP" ? "SIGCONT" : signal);
      await handle.proc.exited;
    },
    pause() {
      handle.proc.kill("SIGSTOP");
    },
    resume() {
      handle.proc.kill("SIGCONT");
    },
    async restart() {
      await handle.stop();
      handle.proc = launch();
      await waitForPort(port);
    },
  };
  await waitForPort(port);
  return handle;
}

export async function stopRedis(redis: RedisProcess, removeDir = true): Promise<void> {
  redis.resume();
  await redis.stop();
  if (removeDir) rmSync(redis.dir, { recursive: true, force: true });
}
