// src/modules/chaos: crash, CPU and memory stress, and the CHAOS_ENABLED switch.
import { describe, expect, test } from "bun:test";
import { call, testApp } from "../helpers/app";

describe("chaos", () => {
  test("POST /crash answers, then exits non-zero", async () => {
    const codes: number[] = [];
    const { app } = testApp({ exit: (c) => codes.push(c) });
    const res = await call(app, "POST", "/crash");
    expect(res.status).toBe(200);
    expect(codes).toEqual([]);
    await Bun.sleep(200);
    expect(codes).toEqual([1]);
  });

  // The two 1 s burns run side by side (whole seconds only, so neither can be shorter).
  test.concurrent("GET /stress burns CPU in a worker while probes keep answering", async () => {
    const { app } = testApp();
    const started = performance.now();
    const stress = call(app, "GET", "/stress?seconds=1");
    await Bun.sleep(100);
    const t0 = performance.now();
    expect((await call(app, "GET", "/health")).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(100);
    const res = await stress;
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ stressed_seconds: 1, server: "test-host", capped: false });
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  test.concurrent("GET /stress is capped at MAX_STRESS_SECONDS", async () => {
    const { app } = testApp({ env: { MAX_STRESS_SECONDS: "1" } });
    const res = await call(app, "GET", "/stress?seconds=1000");
    expect(res.json).toMatchObject({ stressed_seconds: 1, requested_seconds: 1000, capped: true });
  });

  test.each(["abc", "-1", "NaN", "", "1e", "0x"])("GET /stress?seconds=%p is a 4xx JSON", async (value) => {
    const { app } = testApp();
    const res = await call(app, "GET", `/stress?seconds=${value}`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.json.error).toBeString();
  });

  test("GET /stress/memory holds memory up to the cap; release frees it", async () => {
    const { app } = testApp({ env: { MAX_MEMORY_STRESS_MB: "8" } });
    expect((await call(app, "GET", "/stress/memory?mb=5")).json).toMatchObject({ allocated_mb: 5, held_mb: 5, capped: false });
    expect((await call(app, "GET", "/stress/memory?mb=5")).json).toMatchObject({ allocated_mb: 3, held_mb: 8, capped: true });
    expect((await call(app, "POST", "/stress/memory/release")).json).toMatchObject({ released_mb: 8, held_mb: 0 });
    for (const bad of ["-1", "abc", "1.5"]) {
      expect((await call(app, "GET", `/stress/memory?mb=${bad}`)).status).toBe(422);
    }
  });

  test("CHAOS_ENABLED=false turns chaos routes into 403 JSON", async () => {
    const codes: number[] = [];
    const { app } = testApp({ env: { CHAOS_ENABLED: "false" }, exit: (c) => codes.push(c) });
    for (const [method, path] of [["POST", "/crash"], ["GET", "/stress?seconds=1"], ["GET", "/stress/memory?mb=1"]] as const) {
      const res = await call(app, method, path);
      expect(res.status).toBe(403);
      expect(res.json.error).toContain("disabled");
    }
    await Bun.sleep(150);
    expect(codes).toEqual([]);
  });
});
