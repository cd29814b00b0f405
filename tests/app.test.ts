// src/app.ts: the route table is the truth about which module serves which path, and the
// composed app keeps its hot routes synchronous.
import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { featureModules, ROUTES, type ModuleName } from "../src/app";
import { isDeadlineParser } from "../src/http/body";
import { faultsModule } from "../src/modules/faults";
import { BASE, testApp, testDeps } from "./helpers/app";

const routesOf = (app: { routes: Array<{ method: string; path: string }> }) =>
  app.routes.map((r) => `${r.method} ${r.path}`).sort();

describe("ROUTES", () => {
  test("each module registers exactly the routes listed for it", () => {
    const deps = testDeps();
    const modules = featureModules(deps);
    for (const name of Object.keys(ROUTES) as ModuleName[]) {
      const module = name === "faults" ? new Elysia().use(faultsModule(deps)) : modules[name];
      expect({ name, routes: routesOf(module) }).toEqual({ name, routes: [...ROUTES[name]].sort() });
    }
  });

  test("the app serves the union of the table, nothing unlisted", () => {
    const { app } = testApp();
    expect(routesOf(app)).toEqual(Object.values(ROUTES).flat().sort());
  });
});

describe("hot routes stay synchronous", () => {
  // Elysia decides from handler source text whether to compile a route as async; a Promise per
  // request costs throughput on the routes load balancers and probes hit most.
  test.each(["/", "/health", "/ready", "/version"])("GET %s answers without a Promise", (path) => {
    const { app } = testApp();
    const result = app.fetch(new Request(BASE + path)) as unknown;
    expect(result instanceof Promise).toBe(false);
    expect((result as Response).status).toBe(200);
  });
});

describe("routing", () => {
  test("routes on the path alone: a one-letter Host does not make /public/ready/disable or /zz/config match", async () => {
    const { app } = testApp();
    const disable = await app.handle(new Request("http://x/public/ready/disable", { method: "POST" }));
    expect(disable.status).toBe(404);
    expect((await app.handle(new Request(BASE + "/ready"))).status).toBe(200);
    expect((await app.handle(new Request("http://x/zz/config"))).status).toBe(404);
    expect((await app.handle(new Request("http://x/config"))).status).toBe(200);
    expect((await app.handle(new Request("http://x/kv/a?b=1"))).status).toBe(404);
    expect(await (await app.handle(new Request("http://x/health"))).json()).toMatchObject({ status: "healthy" });
  });
});

describe("request bodies", () => {
  test("every route that validates a body reads it through the deadline parser (or reads none)", () => {
    const { app } = testApp();
    const withBody = app.routes.filter((r) => (r.hooks as { body?: unknown }).body !== undefined);
    expect(withBody.map((r) => `${r.method} ${r.path}`).sort()).toEqual(["POST /faults/enable", "POST /kv/:key", "POST /login"]);
    for (const route of withBody) {
      const parse = (route.hooks as { parse?: Array<{ fn: unknown }> }).parse ?? [];
      expect(parse.map((p) => isDeadlineParser(p.fn))).toEqual([true]);
    }
  });
});
