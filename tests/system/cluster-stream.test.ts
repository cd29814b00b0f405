// GET /cluster/events on a real server process: a quiet stream must carry a keepalive well within
// the server's idle timeout (Elysia's 30 s without a byte closes a connection), and end when the
// process shuts down instead of holding the drain for SHUTDOWN_TIMEOUT_SECONDS.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Service } from "../../scripts/lib/service";
import { KEEPALIVE_MS } from "../../src/modules/cluster";
import { startFromSource } from "../helpers/source-service";

describe("the cluster view's event stream on a real server", () => {
  let service: Service;
  beforeAll(async () => {
    // On, with nothing to watch: the stream carries one snapshot, then stays quiet.
    service = await startFromSource({ CLUSTER_VIEW: "true", KUBECONFIG: "/nonexistent/kubeconfig", SHUTDOWN_DELAY_SECONDS: "0", SHUTDOWN_TIMEOUT_SECONDS: "20" });
  });
  afterAll(async () => {
    await service?.stop("SIGKILL", 0).catch(() => {});
  });

  test("a quiet stream gets a keepalive within the idle timeout, and shutdown ends it at once", async () => {
    const res = await fetch(`${service.origin}/cluster/events`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    expect(decoder.decode((await reader.read()).value)).toStartWith("event: snapshot");
    const t0 = performance.now();
    const next = decoder.decode((await reader.read()).value);
    expect(next).toBe(": keepalive\n\n");
    expect(performance.now() - t0).toBeGreaterThan(KEEPALIVE_MS - 1000);
    let closed = null as string | null;
    const reading = (async () => {
      try {
        while (!(await reader.read()).done);
        closed = "ended";
      } catch (err) {
        closed = (err as Error).message;
      }
    })();
    const t1 = performance.now();
    const code = await service.stop("SIGTERM");
    await reading;
    expect(code).toBe(0);
    expect(closed).toBe("ended");
    // Well under SHUTDOWN_TIMEOUT_SECONDS: the open stream did not hold the drain.
    expect((performance.now() - t1) / 1000).toBeLessThan(10);
  }, 30_000);
});
