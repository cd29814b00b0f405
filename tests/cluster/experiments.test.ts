// The experiments the lessons ask learners to run, on the real cluster, each asserting what
// Kubernetes did and printing the figure it measured. Each puts the stack back as it found it.
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { APP_SELECTOR } from "../../scripts/lib/cluster-settings";
import { NETWORK } from "../../scripts/lib/local-cluster";
import { startTraffic } from "../../scripts/lib/e2e/client";
import { ENABLED, ROOT, URL_BASE, figure, isReady, kubectl, kubectlAsync, onPod, pods, readyPods, sh, task, waitFor, type PodJson } from "./cluster";

const restarts = (p: PodJson) => p.status.containerStatuses?.[0]?.restartCount ?? 0;
const podNamed = (name: string) => pods().find((p) => p.metadata.name === name);
const rollout = (name = "bun-k8s") => expect(kubectl("rollout", "status", `deployment/${name}`, "--timeout=300s").code).toBe(0);

/** A short-lived pod in the default namespace that runs `script` in busybox; returns its log. */
async function busybox(name: string, labels: Record<string, string>, script: string): Promise<string> {
  const manifest = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "probe",
          image: "docker.io/library/busybox:1.35.0",
          imagePullPolicy: "Never",
          command: ["sh", "-c", script],
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        },
      ],
    },
  };
  kubectl("delete", "pod", name, "--ignore-not-found", "--wait=true");
  const applied = sh(["kubectl", "--context", process.env.KUBE_CONTEXT ?? "bun-k8s-local", "apply", "-f", "-"], { stdin: JSON.stringify(manifest) });
  expect(applied.code).toBe(0);
  await waitFor(`pod ${name} finished`, () => /Succeeded|Failed/.test(kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}").stdout), 60_000);
  const log = kubectl("logs", name).stdout;
  kubectl("delete", "pod", name, "--wait=false");
  return log;
}

describe.skipIf(!ENABLED)("experiments on the real cluster", () => {
  afterAll(() => {
    kubectl("scale", "deployment/bun-k8s", "--replicas=2");
  });

  test("liveness: /health/disable on one pod makes the kubelet restart it", async () => {
    rollout();
    const [pod] = readyPods();
    expect(pod).toBeDefined();
    const before = restarts(pod!);
    const t0 = performance.now();
    expect((await onPod(pod!, "/health/disable", { method: "POST" })).status).toBe(200);
    await waitFor("the liveness restart", () => restarts(podNamed(pod!.metadata.name)!) > before, 90_000);
    figure("liveness: /health/disable to container restart", `${((performance.now() - t0) / 1000).toFixed(1)} s (probe: period 10 s x 3 failures)`);
    await waitFor("the pod Ready again", () => isReady(podNamed(pod!.metadata.name)!), 60_000);
    expect((await onPod(podNamed(pod!.metadata.name)!, "/health")).status).toBe(200);
  });

  test("OOMKill: /stress/memory past the 160Mi limit ends with lastState.terminated.reason OOMKilled", async () => {
    rollout();
    const [pod] = readyPods();
    const before = restarts(pod!);
    const t0 = performance.now();
    await onPod(pod!, "/stress/memory?mb=200").catch(() => null);
    // The kubelet can publish the new restartCount a status update before lastState: wait for both.
    const restarted = () => {
      const s = podNamed(pod!.metadata.name)?.status.containerStatuses?.[0];
      return s !== undefined && s.restartCount > before && s.lastState?.terminated !== undefined;
    };
    await waitFor("the OOMKill restart and its lastState", restarted, 60_000);
    const status = podNamed(pod!.metadata.name)!.status.containerStatuses![0]!;
    expect(status.lastState?.terminated?.reason).toBe("OOMKilled");
    expect(status.lastState?.terminated?.exitCode).toBe(137);
    figure("OOMKill: /stress/memory?mb=200 to restart", `${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await waitFor("the pod Ready again", () => isReady(podNamed(pod!.metadata.name)!), 60_000);
  });

  test("shared state: the visit counter and a session survive deleting every app pod", async () => {
    rollout();
    const login = await fetch(`${URL_BASE}/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: "admin" }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    expect(cookie).toStartWith("session_id=");
    // Read without counting, so a request retried while the Service has no endpoints changes nothing.
    const count = async () => ((await (await fetch(`${URL_BASE}/visits/count`, { signal: AbortSignal.timeout(3000) })).json()) as { visits: number }).visits;
    expect(((await (await fetch(`${URL_BASE}/visits`)).json()) as { visits: number }).visits).toBeGreaterThan(0);
    const visits = await count();
    const old = readyPods().map((p) => p.metadata.name);
    expect(kubectl("delete", "pods", "-l", APP_SELECTOR, "--wait=false").code).toBe(0);
    const seconds = await waitFor("new pods Ready", () => {
      const ready = readyPods().map((p) => p.metadata.name);
      return ready.length >= 2 && ready.every((n) => !old.includes(n));
    }, 120_000);
    figure("every app pod deleted to 2 new pods Ready", `${seconds.toFixed(1)} s`);
    // For a moment after the API shows the new pods Ready, kube-proxy may still hold the old
    // endpoints (the lesson says requests may fail while every pod is replaced at once).
    let after = -1;
    await waitFor("the Service answers /visits/count", async () => { after = await count(); return true; }, 30_000);
    expect(after).toBe(visits);
    const me = await fetch(`${URL_BASE}/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { username: string }).username).toBe("admin");
  });

  test("/replicas lists every Ready pod (heartbeats in Redis)", async () => {
    rollout();
    const names = readyPods().map((p) => p.metadata.name).sort();
    await waitFor("every ready pod in /replicas", async () => {
      const body = JSON.stringify(await (await fetch(`${URL_BASE}/replicas`)).json());
      return names.every((n) => body.includes(n));
    }, 30_000);
  });

  test("a ConfigMap change rolls the pods (new generator hash) and /config shows the new value", async () => {
    rollout();
    const dir = join(ROOT, ".artifacts", "deploy", "config-change");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "kustomization.yaml"),
      "resources:\n  - ../kind\nconfigMapGenerator:\n  - name: bun-k8s-config\n    behavior: merge\n    literals:\n      - LOG_LEVEL=debug\n",
    );
    const hashBefore = kubectl("get", "deployment/bun-k8s", "-o", "jsonpath={.spec.template.spec.containers[0].envFrom[0].configMapRef.name}").stdout;
    try {
      expect(kubectl("apply", "-k", dir).code).toBe(0);
      const hashAfter = kubectl("get", "deployment/bun-k8s", "-o", "jsonpath={.spec.template.spec.containers[0].envFrom[0].configMapRef.name}").stdout;
      expect(hashAfter).not.toBe(hashBefore);
      expect(hashAfter).toStartWith("bun-k8s-config-");
      rollout();
      // Old pods drain for SHUTDOWN_DELAY_SECONDS after the rollout: every answer is new within it.
      const logLevel = async () => ((await (await fetch(`${URL_BASE}/config`)).json()) as { log_level?: string }).log_level;
      await waitFor("/config shows log_level debug", async () => (await logLevel()) === "debug", 30_000);
      for (let i = 0; i < 10; i++) expect(await logLevel()).toBe("debug");
    } finally {
      expect(kubectl("apply", "-k", join(ROOT, ".artifacts", "deploy", "kind")).code).toBe(0);
      rollout();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("NetworkPolicy: a pod without the app's labels cannot reach Redis; one with them can", async () => {
    rollout("redis");
    // Redis answers an unauthenticated PING with NOAUTH: proof that the connection was made.
    const script = "echo PING | timeout 5 nc redis 6379 || echo no-connection";
    const stranger = await busybox("netpol-stranger", { "bun-k8s.dev/probe": "stranger" }, script);
    expect(stranger).not.toContain("NOAUTH");
    // A new pod's address reaches the CNI's allow-list a moment after it starts (kube-router
    // syncs on the pod event): the allowed pod retries; a refusal of the stranger is final.
    const retrying = "for i in $(seq 15); do echo PING | timeout 2 nc redis 6379 | grep -q NOAUTH && { echo NOAUTH after $i; exit 0; }; sleep 1; done; echo no-connection";
    const app = await busybox("netpol-app", { "app.kubernetes.io/name": "bun-k8s", "app.kubernetes.io/instance": "bun-k8s", "app.kubernetes.io/component": "server" }, retrying);
    figure("NetworkPolicy: the app-labelled pod reached Redis on attempt", app.match(/NOAUTH after (\d+)/)?.[1] ?? "none");
    expect(app).toContain("NOAUTH");
  });

  test("PodDisruptionBudget: on one node, the eviction API refuses (429) what would break maxUnavailable 1", async () => {
    rollout();
    const nodes = kubectl("get", "nodes", "-o", "name").stdout.trim().split("\n");
    console.log(`PDB case: ${nodes.length} node(s): ${nodes.length > 1 ? "multi-node" : "single node, eviction API"}`);
    const [a, b] = readyPods();
    const evict = (name: string) =>
      sh(["kubectl", "--context", process.env.KUBE_CONTEXT ?? "bun-k8s-local", "create", "--raw", `/api/v1/namespaces/default/pods/${name}/eviction`, "-f", "-"], {
        stdin: JSON.stringify({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace: "default" } }),
      });
    const first = evict(a!.metadata.name);
    expect(first.code).toBe(0);
    const second = evict(b!.metadata.name);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/429|disruption budget/i);
    figure("PDB", "first eviction 201, second refused with 429 while the replacement starts");
    rollout();
  });

  test("drain on one node (lesson 21): one app pod is evicted, the PDB refuses the next, traffic never fails", async () => {
    rollout();
    const node = kubectl("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}").stdout.trim();
    const before = readyPods().map((p) => p.metadata.name);
    expect(before.length).toBe(2);
    const traffic = startTraffic(URL_BASE, { workers: 4, intervalMs: 20, retries: 0 });
    let totals;
    try {
      // Async: the traffic loops must keep running while kubectl waits for the evictions.
      const drain = await kubectlAsync("drain", node, "--pod-selector=app.kubernetes.io/name=bun-k8s", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=20s");
      expect(drain.code).not.toBe(0);
      expect(drain.stdout + drain.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget");
      expect(kubectl("get", "node", node, "-o", "jsonpath={.spec.unschedulable}").stdout).toBe("true");
      const left = readyPods().map((p) => p.metadata.name);
      expect(left.length).toBe(1);
      expect(before).toContain(left[0]!);
      // The replacement waits for a schedulable node.
      expect(pods().filter((p) => !p.metadata.deletionTimestamp && !before.includes(p.metadata.name)).length).toBe(1);
      kubectl("uncordon", node);
      const back = await waitFor("2 ready app pods after uncordon", () => readyPods().length === 2, 120_000);
      figure("drain on one node: 2 Ready again after uncordon", `${back.toFixed(1)} s`);
      await Bun.sleep(2000);
    } finally {
      kubectl("uncordon", node);
      totals = await traffic.stop();
    }
    expect(totals.errors).toEqual([]);
    expect(totals.failed).toBe(0);
    figure("drain on one node", `1 of 2 pods evicted, the 2nd refused by the PDB; ${totals.ok}/${totals.sent} requests answered, 0 failed`);
  });

  test("LoadBalancer (lesson 11): kube-router's allocator gives an address that serves; a class nobody implements stays <pending>", async () => {
    const { loadBalancerCidr } = NETWORK;
    const inRange = (ip: string) => ip.startsWith(loadBalancerCidr.split(".").slice(0, 3).join(".") + ".") && Number(ip.split(".")[3]) < 16;
    kubectl("delete", "service", "lb-test", "lb-test-other-class", "--ignore-not-found");
    try {
      expect(kubectl("expose", "deployment", "bun-k8s", "--name", "lb-test", "--type", "LoadBalancer", "--port", "80", "--target-port", "http").code).toBe(0);
      let ip = "";
      const seconds = await waitFor("an EXTERNAL-IP for lb-test", () => {
        ip = kubectl("get", "service", "lb-test", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}").stdout.trim();
        return ip !== "";
      }, 60_000);
      expect(inRange(ip)).toBe(true);
      figure("LoadBalancer address assigned", `${ip} after ${seconds.toFixed(1)} s`);
      // kube-proxy programs the address a moment after the status is written.
      await waitFor(`http://${ip}/ answering`, async () => (await fetch(`http://${ip}/`, { signal: AbortSignal.timeout(3000) })).ok, 30_000);
      // A class is a claim on a controller: kube-router takes only its own and the default.
      const other = {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "lb-test-other-class" },
        spec: { type: "LoadBalancer", loadBalancerClass: "example.com/no-such-controller", selector: { "app.kubernetes.io/name": "bun-k8s" }, ports: [{ port: 80, targetPort: "http" }] },
      };
      expect(sh(["kubectl", "--context", process.env.KUBE_CONTEXT ?? "bun-k8s-local", "apply", "-f", "-"], { stdin: JSON.stringify(other) }).code).toBe(0);
      await Bun.sleep(10_000);
      expect(kubectl("get", "service", "lb-test-other-class", "-o", "jsonpath={.status.loadBalancer.ingress}").stdout.trim()).toBe("");
      expect(kubectl("get", "service", "lb-test-other-class").stdout).toContain("<pending>");
    } finally {
      kubectl("delete", "service", "lb-test", "lb-test-other-class", "--ignore-not-found");
    }
  });

  test("rollback: after a code change and a redeploy, task rollback serves the previous code", async () => {
    rollout();
    const message = async () => ((await (await fetch(`${URL_BASE}/`)).json()) as { message: string }).message;
    const original = await message();
    const copy = join(ROOT, ".artifacts", "rollback-copy");
    rmSync(copy, { recursive: true, force: true });
    for (const entry of ["src", "scripts", "kustomize", "package.json", "bun.lock", "bunfig.toml", "tsconfig.json", "Dockerfile", ".dockerignore", "node_modules"]) {
      cpSync(join(ROOT, entry), join(copy, entry), { recursive: true, verbatimSymlinks: true });
    }
    // The code change: the greeting of GET / (src/modules/info/index.ts).
    const changed = "Hello from bun-k8s, the next version!";
    const infoPath = join(copy, "src/modules/info/index.ts");
    const source = await Bun.file(infoPath).text();
    expect(source).toContain("message: `Hello from ${config.appName}!`");
    writeFileSync(infoPath, source.replace("message: `Hello from ${config.appName}!`", `message: ${JSON.stringify(changed)}`));
    const deploy = sh([process.execPath, "run", join(copy, "scripts/k8s.ts"), "deploy", "kind"]);
    expect(deploy.code).toBe(0);
    figure("redeploy with a code change (podman build, import, rollout)", `${deploy.seconds.toFixed(1)} s`);
    await waitFor("the new code answers", async () => (await message()) === changed, 60_000);
    const back = task("rollback");
    expect(back.code).toBe(0);
    await waitFor("the previous code answers", async () => (await message()) === original, 60_000);
    figure("task rollback to the previous code", `${back.seconds.toFixed(1)} s`);
    rmSync(copy, { recursive: true, force: true });
    // Leave the stack on this checkout's build.
    expect(task("deploy", "OVERLAY=kind", "--", "--skip-build").code).toBe(0);
  });
});
