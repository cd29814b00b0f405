// Lesson 24 on the real cluster: the local cluster's Traefik serves the Ingress of
// kustomize/components/ingress. Without the Ingress the controller has no route (its own 404);
// with it, the host bun-k8s.localtest.me reaches the app's pods, straight at their addresses;
// another host still gets the controller's 404, never the app's. The Ingress is deleted after.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PATHS, PORTS } from "../../scripts/lib/local-cluster";
import { ENABLED, figure, kubectl, pods, waitFor } from "./cluster";

const INGRESS_URL = process.env.INGRESS_URL ?? `http://127.0.0.1:${PORTS.ingressHttp}`;
const HOST = "bun-k8s.localtest.me";
const COMPONENT = "kustomize/components/ingress";
/** What Traefik answers when no router matches (Go's http.NotFound). */
const CONTROLLER_404 = "404 page not found\n";
const TRAEFIK_LOG = join(PATHS.logs, "traefik.log");

const through = (path: string, host: string) =>
  fetch(`${INGRESS_URL}${path}`, { headers: { host }, signal: AbortSignal.timeout(5000) });

/** Traefik's access-log lines (common log format, then the router and the URL it proxied to) whose request has this text. */
const accessLines = (text: string) => readFileSync(TRAEFIK_LOG, "utf8").split("\n").filter((l) => l.includes(text) && l.includes('"GET '));

/** kubectl that must succeed; its stderr is the failure message. */
function kubectlOk(...args: string[]) {
  const r = kubectl(...args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r;
}

describe.skipIf(!ENABLED)("Ingress through the local cluster's Traefik (lesson 24)", () => {
  beforeAll(() => {
    // A leftover from an interrupted run would make the first test meaningless.
    kubectl("delete", "-k", COMPONENT, "--ignore-not-found", "--wait=true");
    expect(kubectl("rollout", "status", "deployment/bun-k8s", "--timeout=300s").code).toBe(0);
  });

  afterAll(() => {
    kubectl("delete", "-k", COMPONENT, "--ignore-not-found", "--wait=true");
  });

  test("without the Ingress, the controller answers the host with its own 404", async () => {
    const r = await through("/info", HOST);
    expect({ status: r.status, body: await r.text() }).toEqual({ status: 404, body: CONTROLLER_404 });
  });

  test("with it, the host reaches the app; Traefik writes the Ingress's address", async () => {
    const t0 = performance.now();
    kubectlOk("apply", "-k", COMPONENT);
    await waitFor(`${HOST} routed to the app`, async () => (await through("/info", HOST)).status === 200, 60_000);
    figure("ingress: apply to the first routed request", `${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const info = (await (await through("/info", HOST)).json()) as { pod_name: string };
    expect(pods().map((p) => p.metadata.name)).toContain(info.pod_name);

    await waitFor("the Ingress's status address", () => kubectl("get", "ingress", "bun-k8s", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}").stdout === "127.0.0.1", 30_000);
    const row = kubectl("get", "ingress", "bun-k8s", "--no-headers").stdout.trim().split(/\s+/);
    expect(row.slice(0, 5)).toEqual(["bun-k8s", "traefik", HOST, "127.0.0.1", "80"]);
  });

  test("a key the app does not have is the app's 404; another host is the controller's", async () => {
    const app404 = await through("/kv/no-such-key", HOST);
    expect({ status: app404.status, body: await app404.json() }).toEqual({ status: 404, body: { error: "key not found", detail: { key: "no-such-key" } } });
    const wrongHost = await through("/info", "nope.localtest.me");
    expect({ status: wrongHost.status, body: await wrongHost.text() }).toEqual({ status: 404, body: CONTROLLER_404 });
  });

  test("Traefik sends each request to a pod's address, not to the Service's ClusterIP", async () => {
    // The access log keeps the path with its query but not the headers: the query marks our lines.
    const marker = `probe=${Date.now()}`;
    const appPodUrls = new Set(pods().map((p) => `http://${p.status.podIP}:8000`));
    for (let i = 0; i < 6; i++) expect((await through(`/info?${marker}`, HOST)).status).toBe(200);
    for (const p of pods()) appPodUrls.add(`http://${p.status.podIP}:8000`);
    const clusterIp = kubectl("get", "service", "bun-k8s", "-o", "jsonpath={.spec.clusterIP}").stdout;
    expect(clusterIp).toMatch(/^10\.96\./);
    await waitFor("six access-log lines", () => accessLines(marker).length === 6, 10_000);
    const upstreams = accessLines(marker).map((l) => /"(http:\/\/[^"]+)"\s+\d+ms$/.exec(l)?.[1] ?? `no service URL in: ${l}`);
    for (const u of upstreams) expect([...appPodUrls]).toContain(u);
    expect(upstreams.filter((u) => u.includes(clusterIp))).toEqual([]);
    figure("ingress: upstreams of six requests", [...new Set(upstreams)].join(", "));
  });

  test("after kubectl delete -k, the route is gone again", async () => {
    kubectlOk("delete", "-k", COMPONENT, "--wait=true");
    await waitFor(`${HOST} unrouted`, async () => (await through("/info", HOST)).status === 404, 30_000);
    expect(await (await through("/info", HOST)).text()).toBe(CONTROLLER_404);
  });
});
