// src/modules/probes: liveness, readiness and their toggles.
import { describe, expect, test } from "bun:test";
import { call, testApp } from "../helpers/app";

describe("probes and toggles", () => {
  test("health and readiness, disable and enable", async () => {
    const { app, deps } = testApp();
    expect(await call(app, "GET", "/health")).toMatchObject({ status: 200, json: { status: "healthy" } });
    expect(await call(app, "GET", "/ready")).toMatchObject({ status: 200, json: { status: "ready" } });

    expect(await call(app, "POST", "/ready/disable")).toMatchObject({ status: 200, json: { status: "not ready" } });
    expect(await call(app, "GET", "/ready")).toMatchObject({ status: 503, json: { status: "not ready" } });
    expect(await call(app, "GET", "/health")).toMatchObject({ status: 200 });
    expect(await call(app, "POST", "/ready/enable")).toMatchObject({ status: 200, json: { status: "ready" } });
    expect((await call(app, "GET", "/ready")).status).toBe(200);

    expect(await call(app, "POST", "/health/disable")).toMatchObject({ status: 200, json: { status: "unhealthy" } });
    expect(await call(app, "GET", "/health")).toMatchObject({ status: 503, json: { status: "unhealthy" } });
    expect(await call(app, "POST", "/health/enable")).toMatchObject({ status: 200, json: { status: "healthy" } });
    expect((await call(app, "GET", "/health")).status).toBe(200);

    deps.lifecycle.beginShutdown();
    expect(await call(app, "GET", "/ready")).toMatchObject({ status: 503, json: { status: "not ready", reason: "draining" } });
    expect(await call(app, "POST", "/ready/enable")).toMatchObject({ json: { status: "not ready" } });
    expect((await call(app, "GET", "/health")).status).toBe(200);
  });

  test("not ready before startup completes", async () => {
    const { app, deps } = testApp();
    deps.lifecycle.phase = "starting";
    expect((await call(app, "GET", "/ready")).status).toBe(503);
  });

  test("probes are GET only; wrong method is a 404 JSON", async () => {
    const { app } = testApp();
    const res = await call(app, "DELETE", "/health");
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: "not found" });
  });
});
