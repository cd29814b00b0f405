// The dashboard's cluster view on the real cluster, in Chromium through the NodePort: what the
// API server reports (readiness, EndpointSlice conditions, a rollout's ReplicaSets, the HPA)
// must show up in the panel within seconds, and RBAC must decide what the view may read.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { launchChromium, requireChromium, type Browser } from "../helpers/browser";
import { startFromSource } from "../helpers/source-service";
import { CONTEXT, ENABLED, ROOT, URL_BASE, figure, kubectl, onPod, pods, readyPods, sh, taskAsync, waitFor } from "./cluster";

const CHROMIUM = ENABLED ? requireChromium() : undefined;
/** Where the screenshot of a rolling update is written; docs/images holds the committed copy. */
const SCREENSHOT = join(ROOT, ".artifacts", "dashboard-rolling-update.png");
/** The Deployment and HPA the /stress check creates, and deletes after. */
const PROBE = "hpa-probe";

interface PanelReplicaSet {
  name: string;
  revision: number;
  desired: number;
  ready: number;
  pods: number;
}

/** The app Deployment's ReplicaSets as the panel draws them now. */
const panelReplicaSets = (page: Page): Promise<PanelReplicaSet[]> =>
  page.$$eval("[data-deployment='bun-k8s'] .rs", (nodes) =>
    nodes.map((n) => ({
      name: n.getAttribute("data-replicaset") ?? "",
      revision: Number(n.getAttribute("data-revision")),
      desired: Number(n.getAttribute("data-desired")),
      ready: Number(n.getAttribute("data-ready")),
      pods: n.querySelectorAll("[data-pod]").length,
    })),
  );

describe.skipIf(!ENABLED || !CHROMIUM)("the dashboard's cluster view on the real cluster", () => {
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium(CHROMIUM!, "cluster-view", { viewport: { width: 1280, height: 1000 } });
    page = await browser.page();
    page.setDefaultTimeout(20_000);
    page.on("pageerror", (err) => pageErrors.push(err.message));
    await page.goto(`${URL_BASE}/ui`);
  }, 60_000);

  afterAll(async () => {
    kubectl("delete", "deployment,hpa", "-l", `app.kubernetes.io/name=${PROBE}`, "--ignore-not-found", "--wait=false");
    for (const pod of readyPods()) await onPod(pod, "/ready/enable", { method: "POST" }).catch(() => {});
    await browser?.close();
  });

  test("the panel is live and lists every ready app pod with its endpoint ready", async () => {
    const t0 = performance.now();
    await page.locator("#cluster-state[data-view='live']").waitFor();
    figure("cluster view live after page load", `${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const pod of readyPods()) {
      await page.locator(`[data-pod='${pod.metadata.name}'][data-ready='true'][data-endpoint='ready']`).waitFor();
    }
    await page.locator("[data-hpa='bun-k8s']").waitFor();
    expect(await page.locator("#cluster-source").textContent()).toContain("Namespace default");
  }, 60_000);

  test("/ready/disable on one pod: the panel shows it not ready, its endpoint not ready, within seconds", async () => {
    const pod = readyPods()[0]!;
    const name = pod.metadata.name;
    expect((await onPod(pod, "/ready/disable", { method: "POST" })).status).toBe(200);
    const seconds = await waitFor(
      `${name} drawn not ready`,
      () => page.locator(`[data-pod='${name}'][data-ready='false'][data-endpoint='not-ready']`).count().then((n) => n === 1),
      30_000,
    );
    figure("cluster view: pod not ready in the panel after /ready/disable", `${seconds.toFixed(1)} s (readiness period 2 s x 2 failures)`);
    // The same condition the API server reports.
    const slices = kubectl("get", "endpointslices", "-l", "kubernetes.io/service-name=bun-k8s", "-o",
      `jsonpath={.items[*].endpoints[?(@.targetRef.name=="${name}")].conditions.ready}`).stdout;
    expect(slices.trim()).toBe("false");
    expect((await onPod(pod, "/ready/enable", { method: "POST" })).status).toBe(200);
    await page.locator(`[data-pod='${name}'][data-ready='true'][data-endpoint='ready']`).waitFor({ timeout: 30_000 });
  }, 90_000);

  test("task restart: the new ReplicaSet fills while the old one drains; screenshot of the rollout", async () => {
    // An earlier rollout's old pods may still be terminating: start from one ReplicaSet.
    await waitFor("one ReplicaSet drawn", () => panelReplicaSets(page).then((rs) => rs.length === 1), 90_000);
    const oldRs = (await panelReplicaSets(page))[0]!;
    const seen: PanelReplicaSet[][] = [];
    let shot = false;
    let shotTerminating = false;
    const restart = taskAsync("restart");
    let finished = false;
    void restart.then(() => (finished = true));
    while (!finished) {
      const now = await panelReplicaSets(page);
      seen.push(now);
      const newRs = now.find((rs) => rs.revision > oldRs.revision);
      const draining = now.find((rs) => rs.name === oldRs.name);
      // The picture for the docs: both revisions, best with an old pod already terminating.
      const terminating = draining ? await page.locator(`[data-replicaset='${oldRs.name}'] [data-terminating='true']`).count() : 0;
      if (newRs && draining && newRs.ready >= 1 && (!shot || (terminating > 0 && !shotTerminating))) {
        mkdirSync(join(ROOT, ".artifacts"), { recursive: true });
        await page.locator("#cluster").screenshot({ path: SCREENSHOT });
        shot = true;
        shotTerminating = terminating > 0;
      }
      await Bun.sleep(250);
    }
    const result = await restart;
    expect(result.code).toBe(0);
    figure("task restart seen in the panel", `${result.seconds.toFixed(1)} s, ${seen.length} samples`);
    // Both ReplicaSets at once, the new one gaining ready pods while the old one still had some.
    const overlap = seen.filter((s) => s.some((rs) => rs.name === oldRs.name && rs.pods > 0) && s.some((rs) => rs.revision > oldRs.revision && rs.ready > 0));
    expect(overlap.length).toBeGreaterThan(0);
    expect(shot).toBe(true);
    // At the end, only the new one, full.
    await waitFor("the old ReplicaSet drawn empty and gone", async () => {
      const now = await panelReplicaSets(page);
      return now.length === 1 && now[0]!.revision > oldRs.revision && now[0]!.ready === now[0]!.desired;
    }, 60_000);
    // The stream survived the pod that held it being replaced (the browser reconnected).
    await page.locator("#cluster-state[data-view='live']").waitFor();
    expect(pageErrors).toEqual([]);
  }, 400_000);

  test("/stress: the panel shows an HPA's desired count rise above its current one", async () => {
    // A Deployment and HPA of their own (same image, memory store, no Service): stressing the
    // app's would leave its HPA scaled up for minutes, under the other cluster tests.
    const image = kubectl("get", "deployment/bun-k8s", "-o", "jsonpath={.spec.template.spec.containers[0].image}").stdout;
    expect(image).toContain("bun-k8s");
    const labels = { "app.kubernetes.io/name": PROBE, "app.kubernetes.io/component": "hpa-probe" };
    const manifests = [
      {
        apiVersion: "apps/v1", kind: "Deployment", metadata: { name: PROBE, labels },
        spec: {
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              automountServiceAccountToken: false,
              // Else the Service "redis" injects REDIS_PORT=tcp://..., which the config refuses.
              enableServiceLinks: false,
              securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
              containers: [{
                name: "app", image, imagePullPolicy: "Never",
                env: [{ name: "STORE", value: "memory" }, { name: "MAX_STRESS_SECONDS", value: "60" }],
                ports: [{ containerPort: 8000 }],
                readinessProbe: { httpGet: { path: "/ready", port: 8000 }, periodSeconds: 2 },
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "160Mi" } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
              }],
            },
          },
        },
      },
      {
        apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: PROBE, labels },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: PROBE },
          minReplicas: 1, maxReplicas: 3,
          metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } }],
        },
      },
    ];
    expect(sh(["kubectl", "--context", CONTEXT, "apply", "-f", "-"], { stdin: manifests.map((m) => JSON.stringify(m)).join("\n") }).code).toBe(0);
    const hpa = page.locator(`[data-hpa='${PROBE}']`);
    await hpa.waitFor({ timeout: 30_000 });
    expect(kubectl("rollout", "status", `deployment/${PROBE}`, "--timeout=120s").code).toBe(0);
    // The HPA acts only once metrics-server reports the new pod's CPU (about a minute).
    await waitFor(`hpa/${PROBE} has CPU figures`, () => hpa.textContent().then((t) => /CPU \d+%/.test(t ?? "")), 180_000);
    const start = Number(await hpa.getAttribute("data-current"));
    const pod = pods(`app.kubernetes.io/name=${PROBE}`)[0]!;
    let running = true;
    const load = [0, 1].map(async () => {
      while (running) await fetch(`http://${pod.status.podIP}:8000/stress?seconds=20`, { signal: AbortSignal.timeout(40_000) }).catch(() => Bun.sleep(1000));
    });
    try {
      const seconds = await waitFor(
        "the panel's desired replicas above the start",
        () => hpa.getAttribute("data-desired").then((d) => Number(d) > start),
        180_000,
      );
      const desired = await hpa.getAttribute("data-desired");
      const api = kubectl("get", `hpa/${PROBE}`, "-o", "jsonpath={.status.desiredReplicas}").stdout;
      figure("cluster view: HPA desired replicas rise under /stress", `${seconds.toFixed(1)} s, ${start} -> ${desired} (the API says ${api})`);
    } finally {
      running = false;
      await Promise.allSettled(load);
    }
  }, 420_000);
});

describe.skipIf(!ENABLED)("RBAC decides what the view may read (the service from source, with a ServiceAccount's token)", () => {
  const dir = mkdtempSync(join(tmpdir(), "bun-k8s-view-rbac-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A kubeconfig for the local cluster that authenticates as `account`, and its CA file. */
  function kubeconfigFor(account: string): { kubeconfig: string; ca: string } {
    const token = kubectl("create", "token", account, "--duration=10m").stdout.trim();
    expect(token.length).toBeGreaterThan(20);
    const cluster = JSON.parse(kubectl("config", "view", "--raw", "--minify", "-o", "json").stdout) as {
      clusters: Array<{ cluster: { server: string; "certificate-authority-data"?: string; "certificate-authority"?: string } }>;
    };
    const { server, "certificate-authority-data": caData, "certificate-authority": caFile } = cluster.clusters[0]!.cluster;
    const ca = join(dir, `${account}-ca.crt`);
    writeFileSync(ca, caData ? Buffer.from(caData, "base64") : readFileSync(caFile!));
    const kubeconfig = join(dir, `${account}.kubeconfig`);
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: "v1", kind: "Config", "current-context": "sa",
      clusters: [{ name: "local", cluster: { server, "certificate-authority": ca } }],
      users: [{ name: account, user: { token } }],
      contexts: [{ name: "sa", context: { cluster: "local", user: account, namespace: "default" } }],
    }));
    return { kubeconfig, ca };
  }

  async function viewAs(account: string) {
    const { kubeconfig, ca } = kubeconfigFor(account);
    const service = await startFromSource({ CLUSTER_VIEW: "true", KUBECONFIG: kubeconfig, NODE_EXTRA_CA_CERTS: ca });
    try {
      const res = await fetch(`${service.origin}/cluster`);
      return { status: res.status, body: (await res.json()) as { state?: string; reason?: string; detail?: { reason?: string }; deployments?: Array<{ name: string }> } };
    } finally {
      await service.stop();
    }
  }

  test("as the app's ServiceAccount (bound to the component's Role): live, with the app's Deployment", async () => {
    const { status, body } = await viewAs("bun-k8s");
    expect({ status, state: body.state }).toEqual({ status: 200, state: "live" });
    expect(body.deployments?.map((d) => d.name)).toContain("bun-k8s");
  }, 60_000);

  test("as Redis' ServiceAccount (no Role): 503 forbidden, naming the Role that grants it", async () => {
    const { status, body } = await viewAs("redis");
    expect(status).toBe(503);
    expect(body.detail?.reason).toMatch(/forbidden: .* may not list .* in namespace default; the read-only Role of kustomize\/components\/cluster-view/);
  }, 60_000);
});
