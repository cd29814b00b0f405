// The cluster part of the end-to-end suite: what only a real deployment can show. Each check
// puts the stack back as it found it (readiness re-enabled, rollouts finished, Redis back).
// Pods are reached one at a time through `kubectl port-forward` on 127.0.0.1 (the image has
// no shell or curl to exec into).
import { freePort } from "../redis";
import { endpointConditionsOf, podReady, readyEndpointPods, restartCount, type Kube, type Pod, type PodList } from "../kube";
import { APP_DEPLOYMENT, APP_HPA, APP_SELECTOR, APP_SERVICE, REDIS_DEPLOYMENT, REDIS_SELECTOR } from "../cluster-settings";
import { get, post, serverOf, startTraffic, waitFor } from "./client";
import { assert, eq, Skip, type Check, type Context } from "./harness";

const ROLLOUT_TIMEOUT = "300s";

function kubeOf(ctx: Context): Kube {
  if (!ctx.kube) throw new Skip(`no cluster: ${ctx.kubeReason}`);
  return ctx.kube;
}

async function appPods(kube: Kube): Promise<Pod[]> {
  return (await kube.json<PodList>(["get", "pods", "-l", APP_SELECTOR])).items;
}

async function readyAppPods(kube: Kube): Promise<Pod[]> {
  return (await appPods(kube)).filter(podReady).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

async function needReplicas(kube: Kube, n: number, why: string): Promise<Pod[]> {
  const pods = await readyAppPods(kube);
  if (pods.length < n) throw new Skip(`needs at least ${n} ready app pods (${why}); found ${pods.length}: task scale N=${n}`);
  return pods;
}

interface Forward {
  url: string;
  close(): Promise<void>;
}

/** `kubectl port-forward pod/<name> 127.0.0.1:<free>:8000`, resolved once it listens. */
async function portForward(kube: Kube, pod: string, remotePort = 8000): Promise<Forward> {
  const port = await freePort();
  const argv = kube.argv(["port-forward", "--address", "127.0.0.1", `pod/${pod}`, `${port}:${remotePort}`]);
  const proc = Bun.spawn(argv, { env: kube.env, stdout: "pipe", stderr: "pipe" });
  const url = `http://127.0.0.1:${port}/`;
  const close = async () => {
    proc.kill();
    await proc.exited;
  };
  try {
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`kubectl port-forward exited: ${await new Response(proc.stderr).text()}`);
        const r = await get(url, "/health", { timeoutMs: 2000 }).catch(() => null);
        return r !== null;
      },
      20_000,
      `port-forward to pod/${pod} did not answer`,
      250,
    );
  } catch (err) {
    await close();
    throw err;
  }
  return { url, close };
}

async function rolloutStatus(kube: Kube, deployment: string) {
  await kube.out(["rollout", "status", `deployment/${deployment}`, `--timeout=${ROLLOUT_TIMEOUT}`], { timeoutMs: 330_000 });
}

export const clusterChecks: Check[] = [
  {
    name: "cluster: the URL is served by this context's bun-k8s pods, and the Service routes to exactly the ready pods",
    group: "cluster",
    async run(ctx) {
      const kube = kubeOf(ctx);
      const dep = await kube.json<{ status: { readyReplicas?: number; replicas?: number } }>(["get", `deployment/${APP_DEPLOYMENT}`]);
      const ready = await readyAppPods(kube);
      assert(ready.length >= 1, `deployment/${APP_DEPLOYMENT} has no ready pod`);
      // Endpoints follow pod readiness within a few seconds.
      const want = JSON.stringify(ready.map((p) => p.metadata.name));
      await waitFor(
        async () => JSON.stringify(await readyEndpointPods(kube, APP_SERVICE)) === want,
        15_000,
        `ready endpoints of service/${APP_SERVICE} did not equal the ready pods ${want}`,
        500,
      );
      const names = new Set(ready.map((p) => p.metadata.name));
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const s = serverOf(await get(ctx.baseUrl, "/"));
        assert(s !== undefined, "GET / has no server");
        seen.add(s);
      }
      for (const s of seen) {
        assert(names.has(s), `BASE_URL was answered by ${s}, which is not a ready pod of deployment/${APP_DEPLOYMENT} in this context (${[...names].join(", ")}): wrong --context or BASE_URL?`);
      }
      return `${dep.status.readyReplicas ?? 0}/${dep.status.replicas ?? 0} ready; answered by ${[...seen].join(", ")}`;
    },
  },
  {
    name: "readiness: a pod that disables readiness stays in its EndpointSlice with ready: false, gets no traffic, then comes back",
    group: "cluster",
    async run(ctx) {
      const kube = kubeOf(ctx);
      const pods = await needReplicas(kube, 2, "the Service must keep an endpoint");
      const target = pods[0]!.metadata.name;
      const fwd = await portForward(kube, target);
      try {
        eq(serverOf(await get(fwd.url, "/")), target, "the port-forward reaches the chosen pod");
        const off = await post(fwd.url, "/ready/disable");
        eq(off.status, 200, "POST /ready/disable status");
        const left = Date.now();
        await waitFor(async () => !(await readyEndpointPods(kube, APP_SERVICE)).includes(target), 30_000, `pod ${target} still in the ready endpoints`, 500);
        const leftAfter = ((Date.now() - left) / 1000).toFixed(1);
        // Not removed: the slice keeps the address with ready (and serving) false.
        const conditions = await endpointConditionsOf(kube, APP_SERVICE, target);
        assert(conditions !== null, `pod ${target} vanished from the EndpointSlice instead of staying with ready: false`);
        eq(JSON.stringify(conditions), JSON.stringify({ ready: false, serving: false, terminating: false }), "the not-ready pod's EndpointSlice conditions");
        // Let every node's kube-proxy catch up, then the pod must get no request.
        await Bun.sleep(3000);
        const servers = new Map<string, number>();
        for (let i = 0; i < 40; i++) {
          const r = await get(ctx.baseUrl, "/");
          eq(r.status, 200, "GET / while one pod is not ready");
          const s = serverOf(r)!;
          servers.set(s, (servers.get(s) ?? 0) + 1);
        }
        assert(!servers.has(target), `pod ${target} is not ready but answered ${servers.get(target)} of 40 requests`);
        // The pod itself is alive and still answers directly.
        eq((await get(fwd.url, "/ready")).status, 503, "GET /ready on the disabled pod");
        eq((await get(fwd.url, "/health")).status, 200, "GET /health on the disabled pod (no restart)");
        eq((await post(fwd.url, "/ready/enable")).status, 200, "POST /ready/enable status");
        await waitFor(async () => (await readyEndpointPods(kube, APP_SERVICE)).includes(target), 30_000, `pod ${target} did not return to the endpoints`, 500);
        return `ready: false in its EndpointSlice after ${leftAfter}s (still listed); 40 requests went to ${[...servers.keys()].join(", ")}; back after re-enable`;
      } finally {
        await post(fwd.url, "/ready/enable").catch(() => {});
        await fwd.close();
      }
    },
  },
  {
    name: "self-healing: POST /crash restarts the pod (restartCount grows) while the Service keeps answering",
    group: "cluster",
    async run(ctx) {
      const config = (await get(ctx.baseUrl, "/config")).json as { chaos_enabled?: boolean } | undefined;
      if (config?.chaos_enabled === false) throw new Skip("CHAOS_ENABLED=false in this overlay (high-replica): POST /crash answers 403");
      const kube = kubeOf(ctx);
      const pods = await needReplicas(kube, 2, "another pod must answer while one restarts");
      const target = pods[0]!;
      const name = target.metadata.name;
      const before = restartCount(target, "bun-k8s");
      // Between the exit and the endpoint update (about a second) a request may reach the dead
      // pod and be refused: a client retrying for up to 2 s (10 x 200 ms) must never fail.
      // Refused attempts are counted and reported.
      const traffic = startTraffic(ctx.baseUrl, { workers: 2, intervalMs: 100, retries: 10 });
      let totals;
      try {
        const fwd = await portForward(kube, name);
        try {
          const r = await post(fwd.url, "/crash");
          eq(r.status, 200, "POST /crash status");
          eq((r.json as { exit_code?: number }).exit_code, 1, "POST /crash exit_code");
        } finally {
          await fwd.close();
        }
        const after = await waitFor(
          async () => {
            const pod = await kube.json<Pod>(["get", `pod/${name}`]);
            return restartCount(pod, "bun-k8s") > before && podReady(pod) ? pod : null;
          },
          120_000,
          `pod ${name} did not restart and become ready again`,
        );
        await Bun.sleep(2000);
        totals = await traffic.stop();
        assert(totals.failed === 0, `${totals.failed} of ${totals.sent} requests failed even after retrying for 2 s: ${totals.errors.slice(0, 5).join(" | ")}`);
        assert(totals.ok > 10, `only ${totals.ok} requests answered during the restart`);
        return `restartCount ${before} -> ${restartCount(after, "bun-k8s")}; ${totals.ok}/${totals.sent} requests answered (${totals.failedAttempts} attempt(s) needed a retry)`;
      } finally {
        if (!totals) await traffic.stop();
      }
    },
  },
  {
    name: "rolling restart under steady traffic loses no request",
    group: "cluster",
    async run(ctx) {
      const kube = kubeOf(ctx);
      const before = new Set((await needReplicas(kube, 1, "rollout")).map((p) => p.metadata.name));
      // No retries: every failed request counts.
      const traffic = startTraffic(ctx.baseUrl, { workers: 4, intervalMs: 20, retries: 0 });
      let totals;
      try {
        await Bun.sleep(2000);
        await kube.out(["rollout", "restart", `deployment/${APP_DEPLOYMENT}`]);
        await rolloutStatus(kube, APP_DEPLOYMENT);
        // Old pods drain for SHUTDOWN_DELAY_SECONDS after leaving the endpoints: keep the traffic on.
        await Bun.sleep(8000);
        totals = await traffic.stop();
      } finally {
        if (!totals) await traffic.stop();
      }
      const after = new Set((await readyAppPods(kube)).map((p) => p.metadata.name));
      const newServers = [...totals.servers.keys()].filter((s) => !before.has(s));
      assert(totals.failed === 0, `${totals.failed} of ${totals.sent} requests failed during the rolling restart: ${totals.errors.slice(0, 5).join(" | ")}`);
      assert(totals.sent >= 50, `only ${totals.sent} requests were sent`);
      assert([...after].every((p) => !before.has(p)), `pods not replaced: ${[...after].filter((p) => before.has(p)).join(", ")}`);
      assert(newServers.length > 0, "no request was answered by a new pod");
      return `${totals.ok}/${totals.sent} answered, 0 failed; old pods ${[...before].join(", ")}; new pods answered: ${newServers.join(", ")}`;
    },
  },
  {
    name: "Redis persistence: the visit count survives deleting the Redis pod",
    group: "cluster",
    async run(ctx) {
      const kube = kubeOf(ctx);
      const first = await get(ctx.baseUrl, "/visits");
      eq(first.status, 200, "GET /visits before");
      const count = (first.json as { visits: number }).visits;
      // appendfsync everysec: give Redis a second to write the last increment to the AOF.
      await Bun.sleep(1500);
      const old = (await kube.json<PodList>(["get", "pods", "-l", REDIS_SELECTOR])).items.map((p) => p.metadata.name);
      assert(old.length === 1, `expected one Redis pod, found ${old.length}`);
      await kube.out(["delete", "pod", "-l", REDIS_SELECTOR, "--wait=true", "--timeout=120s"], { timeoutMs: 150_000 });
      const outage = Date.now();
      // While Redis is away the app answers 503 {"error":"redis unavailable"}, then heals itself.
      let saw503 = 0;
      const back = await waitFor(
        async () => {
          const r = await get(ctx.baseUrl, "/visits/count").catch(() => null);
          if (r?.status === 503) saw503++;
          return r?.status === 200 ? (r.json as { visits: number }) : null;
        },
        180_000,
        "GET /visits/count did not answer 200 after Redis was deleted",
      );
      const seconds = ((Date.now() - outage) / 1000).toFixed(1);
      await rolloutStatus(kube, REDIS_DEPLOYMENT);
      const now = (await kube.json<PodList>(["get", "pods", "-l", REDIS_SELECTOR])).items.map((p) => p.metadata.name);
      assert(!now.some((p) => old.includes(p)), `the Redis pod was not replaced (${now.join(", ")})`);
      assert(back.visits >= count, `visit count went back from ${count} to ${back.visits}: Redis lost its data`);
      const next = await get(ctx.baseUrl, "/visits");
      eq(next.status, 200, "GET /visits after");
      assert((next.json as { visits: number }).visits > count, `visit count after (${(next.json as { visits: number }).visits}) is not above ${count}`);
      return `count ${count} -> ${(next.json as { visits: number }).visits} across Redis pods ${old.join(", ")} -> ${now.join(", ")}; back after ${seconds}s (${saw503} x 503 meanwhile)`;
    },
  },
];

export const hpaChecks: Check[] = [
  {
    name: "HPA: CPU stress raises the replica count",
    group: "hpa",
    async run(ctx) {
      const kube = kubeOf(ctx);
      type Hpa = { spec: { minReplicas?: number; maxReplicas: number }; status: { currentReplicas?: number; desiredReplicas?: number; currentMetrics?: unknown[] } };
      const hpa = await kube.json<Hpa>(["get", `hpa/${APP_HPA}`]).catch(() => {
        throw new Skip(`no hpa/${APP_HPA} in this namespace`);
      });
      // The HPA needs metrics before it can act (metrics-server; about a minute after start).
      // Its status is empty until its first sync, so the starting count is read after that: a
      // new HPA's currentReplicas of 0 would make any count look like growth.
      const synced = await waitFor(
        async () => {
          const h = await kube.json<Hpa>(["get", `hpa/${APP_HPA}`]);
          return (h.status.currentMetrics ?? []).length > 0 && (h.status.currentReplicas ?? 0) > 0 ? h : null;
        },
        180_000,
        `hpa/${APP_HPA} has no CPU metrics (is metrics-server running? task up installs it)`,
        5000,
      );
      const start = synced.status.currentReplicas!;
      if (start >= hpa.spec.maxReplicas) throw new Skip(`already at maxReplicas ${hpa.spec.maxReplicas}`);
      const controller = new AbortController();
      let running = true;
      let stressed = 0;
      const load = Array.from({ length: Math.max(4, start * 2) }, async () => {
        while (running) {
          const r = await get(ctx.baseUrl, "/stress?seconds=20", { timeoutMs: 40_000, signal: controller.signal }).catch(() => null);
          if (r?.status === 200) stressed++;
          if (r?.status === 429) await Bun.sleep(1000);
        }
      });
      try {
        const grown = await waitFor(
          async () => {
            const h = await kube.json<Hpa>(["get", `hpa/${APP_HPA}`]);
            return (h.status.desiredReplicas ?? 0) > start && (h.status.currentReplicas ?? 0) > start ? h : null;
          },
          360_000,
          `hpa/${APP_HPA} did not scale above ${start} replicas under CPU stress`,
          5000,
        );
        return `replicas ${start} -> ${grown.status.currentReplicas} (desired ${grown.status.desiredReplicas}); ${stressed} stress requests done; scale-down follows after the stabilisation window`;
      } finally {
        running = false;
        controller.abort();
        await Promise.allSettled(load);
      }
    },
  },
];
