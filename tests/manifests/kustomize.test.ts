// Kustomize, verified offline: every overlay (and the base, and the kind metrics-server
// bundle) is rendered once with `kubectl kustomize`, every object is validated against
// the Kubernetes OpenAPI schemas (kubernetes-models) plus a strict unknown-field check,
// and the manifests are checked against the app: routes, ports, config names, secrets,
// labels, security, autoscaling and each overlay's own settings.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IPersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { ISecret } from "kubernetes-models/v1/Secret";
import type { IService } from "kubernetes-models/v1/Service";
import YAML from "yaml";
import { parseUsers } from "../../src/modules/auth/users";
import { CONFIG_VARS, selectedStore } from "../../src/config";
import { configFrom, testApp } from "../helpers/app";
import { baseName, KUSTOMIZE_DIR, kustomize, pick, quantity, redisBytes, ROOT, type K8sObject } from "./render";
import * as clusterSettings from "../../scripts/lib/cluster-settings";
import { namespaceManifest, podSecurityLevel } from "../../scripts/lib/cluster-settings";
import { StrictFieldChecker } from "./strict-fields";

const KUBECTL = Bun.which("kubectl");
const IN_CI = process.env.CI === "true";

/** The image name the Dockerfile is built as (`docker build -t bun-k8s:<tag>`), per DESIGN.md. */
const IMAGE_NAME = "bun-k8s";
const APP_UID = 65532;
const REDIS_UID = 999;
/** Environment the app reads that is not configuration: the Downward API values shown by /info. */
const DOWNWARD_ENV = ["POD_NAME", "POD_IP", "NODE_NAME", "POD_NAMESPACE", "CPU_REQUEST", "CPU_LIMIT", "MEMORY_REQUEST", "MEMORY_LIMIT"];
/** ConfigMap keys the design requires (DESIGN.md, "Config"). */
const REQUIRED_CONFIG_KEYS = [
  "APP_NAME", "LOG_LEVEL", "MAX_STRESS_SECONDS", "MAX_MEMORY_STRESS_MB", "REDIS_HOST", "REDIS_PORT", "SESSION_TTL",
  "SHUTDOWN_DELAY_SECONDS", "SHUTDOWN_TIMEOUT_SECONDS", "CHAOS_ENABLED", "HEARTBEAT_INTERVAL_SECONDS",
];
const SECRET_KEYS = ["REDIS_PASSWORD", "AUTH_USERS", "SESSION_SECRET"];
const RECOMMENDED_LABELS = [
  "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
  "app.kubernetes.io/component", "app.kubernetes.io/part-of",
];
/** Redis connections one app pod opens (one node-redis client, src/store/redis.ts). */
const REDIS_CONNECTIONS_PER_POD = 1;

const OVERLAYS = ["docker-desktop", "kind", "high-replica"] as const;
/** The learning overlays, which include kustomize/components/cluster-view (a token, a read-only Role). */
const CLUSTER_VIEW_OVERLAYS: readonly string[] = ["docker-desktop", "kind"];
const SERVICE_ACCOUNT_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
const TARGETS = { base: "base", ...Object.fromEntries(OVERLAYS.map((o) => [o, `overlays/${o}`])) } as Record<string, string>;
const STACKS = ["base", ...OVERLAYS];

/** docker-desktop's one allowed exception to "restricted": the init step that owns Redis' hostPath volume. */
const isHostPathOwnerStep = (stack: string, d: IDeployment & K8sObject, c: IContainer) =>
  podSecurityLevel(stack) === "baseline" && d.metadata.name === "redis" && (d.spec!.template.spec!.initContainers ?? []).includes(c) && c.name === "own-data";

const defaultOf = (env: string) => CONFIG_VARS.find((v) => v.env === env)?.default;

if (!KUBECTL) {
  if (IN_CI) {
    test("kubectl is installed (required in CI to render the Kustomize overlays)", () => {
      throw new Error("kubectl not found on PATH; CI must render and validate the Kustomize overlays");
    });
  } else {
    console.warn("[kustomize.test] SKIPPED: kubectl not found on PATH; install kubectl (with kustomize) to render and validate kustomize/**");
  }
}

describe.skipIf(!KUBECTL)("kustomize", () => {
  const rendered: Record<string, K8sObject[]> = {};
  let metricsServer: K8sObject[] = [];
  let strict: StrictFieldChecker;

  beforeAll(async () => {
    const names = Object.keys(TARGETS);
    const all = await Promise.all([
      ...names.map((n) => kustomize(KUBECTL!, join(KUSTOMIZE_DIR, TARGETS[n]!))),
      kustomize(KUBECTL!, join(KUSTOMIZE_DIR, "metrics-server")),
    ]);
    names.forEach((n, i) => (rendered[n] = all[i]!));
    metricsServer = all[names.length]!;
    strict = new StrictFieldChecker([...all.flat()], ROOT);
    // Four kubectl renders and a TypeScript program over every object: well past the 5 s default
    // on a loaded 2-core machine.
  }, 60_000);

  // ---------------------------------------------------------------- version
  test("the base image tag and version labels follow package.json's version", async () => {
    const { version } = await Bun.file(join(ROOT, "package.json")).json();
    const app = pick(rendered.base!, "Deployment", "bun-k8s") as any;
    expect(app.spec.template.spec.containers[0].image).toBe(`${IMAGE_NAME}:${version}`);
    expect(app.metadata.labels["app.kubernetes.io/version"]).toBe(version);
    expect(app.spec.template.metadata.labels["app.kubernetes.io/version"]).toBe(version);
  });

  // ---------------------------------------------------------------- schema
  describe("OpenAPI schema", () => {
    async function modelFor(o: K8sObject): Promise<new (data: unknown) => { validate(): void }> {
      const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
      const path = group ? `kubernetes-models/${group}/${version}/${o.kind}` : `kubernetes-models/${version}/${o.kind}`;
      const mod = (await import(path)) as Record<string, unknown>;
      const model = mod[o.kind];
      if (typeof model !== "function") throw new Error(`kubernetes-models has no ${o.apiVersion} ${o.kind}`);
      return model as new (data: unknown) => { validate(): void };
    }

    for (const stack of [...STACKS, "metrics-server"]) {
      test(`${stack}: every object validates and has no unknown fields`, async () => {
        const objects = stack === "metrics-server" ? metricsServer : rendered[stack]!;
        expect(objects.length).toBeGreaterThan(0);
        const problems: string[] = [];
        for (const o of objects) {
          const Model = await modelFor(o);
          try {
            new Model(o).validate();
          } catch (err) {
            problems.push(`${o.kind}/${o.metadata.name}: ${(err as Error).message}`);
          }
          for (const field of strict.unknownFields(o)) problems.push(`${o.kind}/${o.metadata.name}: unknown field ${field}`);
        }
        expect(problems).toEqual([]);
      });
    }

    test("the validators catch a wrong type and a misspelt field (they can fail)", async () => {
      const dep = structuredClone(pick<IDeployment & K8sObject>(rendered.base!, "Deployment", "bun-k8s"));
      const Model = await modelFor(dep);
      (dep.spec as unknown as Record<string, unknown>).replicas = "two";
      expect(() => new Model(dep).validate()).toThrow(/replicas/);
      const typo = structuredClone(pick<IDeployment & K8sObject>(rendered.base!, "Deployment", "bun-k8s"));
      (typo.spec!.template.spec!.containers[0] as unknown as Record<string, unknown>).imagePullPolicyy = "Never";
      expect(strict.unknownFields(typo)).toEqual(["Deployment.spec.template.spec.containers[0].imagePullPolicyy"]);
    });

    test("every overlay keeps every base object (overlays patch, they do not drop); only the cluster view adds any", () => {
      const ids = (objects: K8sObject[]) => objects.map((o) => `${o.kind}/${baseName(o.metadata.name)}`).sort();
      const viewIds = ["NetworkPolicy/bun-k8s-api-server", "Role/bun-k8s-cluster-view", "RoleBinding/bun-k8s-cluster-view"];
      for (const overlay of OVERLAYS) {
        const added = CLUSTER_VIEW_OVERLAYS.includes(overlay) ? viewIds : [];
        expect({ overlay, ids: ids(rendered[overlay]!) }).toEqual({ overlay, ids: [...ids(rendered.base!), ...added].sort() });
      }
    });
  });

  // ------------------------------------------------------- per stack contract
  for (const stack of STACKS) {
    describe(`${stack}: manifests match the app`, () => {
      const objs = () => rendered[stack]!;
      const app = () => pick<IDeployment & K8sObject>(objs(), "Deployment", "bun-k8s");
      const redis = () => pick<IDeployment & K8sObject>(objs(), "Deployment", "redis");
      const pod = (d: IDeployment): IPodSpec => d.spec!.template.spec!;
      const container = (d: IDeployment, name: string): IContainer => {
        const c = pod(d).containers.find((c) => c.name === name);
        if (!c) throw new Error(`container ${name} not found`);
        return c;
      };
      const configMap = () => {
        const ref = container(app(), "bun-k8s").envFrom?.find((e) => e.configMapRef)?.configMapRef?.name;
        if (!ref) throw new Error("the app container has no envFrom configMapRef");
        return pick<IConfigMap & K8sObject>(objs(), "ConfigMap", ref);
      };
      const cm = () => configMap().data ?? {};
      const secretValue = (name: string, key: string) => {
        const s = objs().find((o) => o.kind === "Secret" && o.metadata.name === name) as (ISecret & K8sObject) | undefined;
        if (!s) throw new Error(`Secret ${name} not rendered`);
        const b64 = s.data?.[key];
        if (b64 === undefined) throw new Error(`Secret ${name} has no key ${key}`);
        return Buffer.from(b64, "base64").toString("utf8");
      };
      /** The environment the app container starts with (ConfigMap + Secret values; Downward API omitted). */
      const appEnv = () => {
        const env: Record<string, string> = { ...cm() };
        for (const e of container(app(), "bun-k8s").env ?? []) {
          if (e.value !== undefined) env[e.name] = e.value;
          const ref = e.valueFrom?.secretKeyRef;
          if (ref) env[e.name] = secretValue(ref.name!, ref.key);
        }
        return env;
      };
      /** The app as this stack configures it (store in memory: no I/O), already started. */
      const buildApp = () => testApp({ env: appEnv() }).app;
      const getRoutes = () => new Set(buildApp().routes.filter((r) => r.method === "GET").map((r) => r.path));

      test("probes: liveness /health, readiness /ready, a startupProbe, on the named port http; the app serves them", async () => {
        const c = container(app(), "bun-k8s");
        expect(c.livenessProbe?.httpGet?.path).toBe("/health");
        expect(c.readinessProbe?.httpGet?.path).toBe("/ready");
        expect(["/health", "/ready"]).toContain(c.startupProbe?.httpGet?.path!);
        for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe]) expect(p?.httpGet?.port).toBe("http");
        const routes = getRoutes();
        for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe]) expect(routes.has(p!.httpGet!.path!)).toBe(true);
        // And they answer 200 on a started app, so the kubelet will see it healthy and ready.
        const instance = buildApp();
        for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
          const res = await instance.handle(new Request(`http://localhost${p!.httpGet!.path}`));
          expect(`${p!.httpGet!.path} ${res.status}`).toBe(`${p!.httpGet!.path} 200`);
        }
      });

      test("container port http equals the app's default PORT, and any PORT in the ConfigMap", () => {
        const ports = container(app(), "bun-k8s").ports ?? [];
        const http = ports.find((p) => p.name === "http");
        expect(http?.containerPort).toBe(Number(defaultOf("PORT")));
        if (cm().PORT !== undefined) expect(Number(cm().PORT)).toBe(http!.containerPort);
      });

      test("every ConfigMap key is a variable the config loader reads; the required ones are set", () => {
        const known = new Set(CONFIG_VARS.map((v) => v.env));
        const keys = Object.keys(cm());
        expect(keys.filter((k) => !known.has(k))).toEqual([]);
        expect(REQUIRED_CONFIG_KEYS.filter((k) => !keys.includes(k))).toEqual([]);
        // Non-secret config only: secret variables come from Secrets.
        const secretVars = CONFIG_VARS.filter((v) => v.secret).map((v) => v.env);
        expect(keys.filter((k) => secretVars.includes(k))).toEqual([]);
      });

      test("the app's environment loads: valid values, the Redis store selected, AUTH_USERS parses", () => {
        const config = configFrom(appEnv());
        expect(selectedStore(config)).toBe("redis");
        expect(config.redisPassword).toBeTruthy();
        expect(config.sessionSecret).toBeTruthy();
        expect(parseUsers(config.authUsers!).size).toBeGreaterThan(0);
      });

      test("every env var of the app container is configuration or Downward API; all Downward values are wired", () => {
        const known = new Set([...CONFIG_VARS.map((v) => v.env), ...DOWNWARD_ENV]);
        const env = container(app(), "bun-k8s").env ?? [];
        // Bun's own: where the cluster view is on, it makes Bun trust the cluster's CA.
        const extraCa = env.find((e) => e.name === "NODE_EXTRA_CA_CERTS");
        if (CLUSTER_VIEW_OVERLAYS.includes(stack)) expect(extraCa?.value).toBe(SERVICE_ACCOUNT_CA);
        else expect(extraCa).toBeUndefined();
        known.add("NODE_EXTRA_CA_CERTS");
        expect(env.map((e) => e.name).filter((n) => !known.has(n))).toEqual([]);
        for (const name of DOWNWARD_ENV) {
          const e = env.find((x) => x.name === name);
          expect(e?.valueFrom?.fieldRef ?? e?.valueFrom?.resourceFieldRef).toBeDefined();
          if (e?.valueFrom?.resourceFieldRef) expect(e.valueFrom.resourceFieldRef.containerName).toBe("bun-k8s");
        }
      });

      test("every referenced Secret, ConfigMap, key, PVC and ServiceAccount exists in the render", () => {
        const missing: string[] = [];
        const has = (kind: string, name: string) => objs().some((o) => o.kind === kind && o.metadata.name === name);
        for (const d of objs().filter((o) => o.kind === "Deployment") as (IDeployment & K8sObject)[]) {
          const spec = pod(d);
          if (!has("ServiceAccount", spec.serviceAccountName ?? "default")) missing.push(`ServiceAccount ${spec.serviceAccountName}`);
          for (const c of spec.containers) {
            for (const e of c.env ?? []) {
              const s = e.valueFrom?.secretKeyRef;
              if (s) {
                try { secretValue(s.name!, s.key); } catch (err) { missing.push((err as Error).message); }
              }
              const m = e.valueFrom?.configMapKeyRef;
              if (m && !(objs().find((o) => o.kind === "ConfigMap" && o.metadata.name === m.name) as IConfigMap | undefined)?.data?.[m.key]) {
                missing.push(`ConfigMap ${m.name} key ${m.key}`);
              }
            }
            for (const f of c.envFrom ?? []) {
              if (f.configMapRef && !has("ConfigMap", f.configMapRef.name!)) missing.push(`ConfigMap ${f.configMapRef.name}`);
              if (f.secretRef && !has("Secret", f.secretRef.name!)) missing.push(`Secret ${f.secretRef.name}`);
            }
          }
          for (const v of spec.volumes ?? []) {
            if (v.persistentVolumeClaim && !has("PersistentVolumeClaim", v.persistentVolumeClaim.claimName)) missing.push(`PVC ${v.persistentVolumeClaim.claimName}`);
          }
        }
        expect(missing).toEqual([]);
      });

      test("Secrets: REDIS_PASSWORD, AUTH_USERS, SESSION_SECRET generated, the app and Redis share one password", () => {
        const refs = new Map<string, { name?: string; key: string }>();
        for (const e of container(app(), "bun-k8s").env ?? []) if (e.valueFrom?.secretKeyRef) refs.set(e.name, e.valueFrom.secretKeyRef);
        expect([...refs.keys()].sort()).toEqual([...SECRET_KEYS].sort());
        for (const [, ref] of refs) expect(secretValue(ref.name!, ref.key).length).toBeGreaterThan(0);
        const redisRef = (container(redis(), "redis").env ?? []).find((e) => e.name === "REDIS_PASSWORD")?.valueFrom?.secretKeyRef;
        expect(redisRef).toEqual(refs.get("REDIS_PASSWORD")!);
        // Generated (hash-suffixed) so a change rolls the pods.
        for (const ref of refs.values()) expect(ref.name).toMatch(/-[a-z0-9]{10}$/);
        expect(configMap().metadata.name).toMatch(/^bun-k8s-config-[a-z0-9]{10}$/);
      });

      test("Services select their Deployment's pods, by labels that are in the (immutable) selector", () => {
        for (const [svcName, depName, port] of [["bun-k8s", "bun-k8s", "http"], ["redis", "redis", "redis"]] as const) {
          const svc = pick<IService & K8sObject>(objs(), "Service", svcName);
          const dep = pick<IDeployment & K8sObject>(objs(), "Deployment", depName);
          const selector = svc.spec!.selector!;
          expect(Object.keys(selector).length).toBeGreaterThan(0);
          expect(dep.spec!.template.metadata!.labels).toMatchObject(selector);
          expect(dep.spec!.selector.matchLabels).toMatchObject(selector);
          const target = svc.spec!.ports![0]!.targetPort;
          expect(target).toBe(port); // by name, so a container port renumbering cannot break it
          const c = pod(dep).containers[0]!;
          expect(c.ports!.some((p) => p.name === target || p.containerPort === target)).toBe(true);
        }
        const redisSvc = pick<IService & K8sObject>(objs(), "Service", "redis");
        expect(redisSvc.spec!.type ?? "ClusterIP").toBe("ClusterIP");
        expect(redisSvc.spec!.ports![0]!.port).toBe(6379);
        // REDIS_HOST/REDIS_PORT in the ConfigMap point at that Service.
        expect(cm().REDIS_HOST).toBe("redis");
        expect(Number(cm().REDIS_PORT)).toBe(redisSvc.spec!.ports![0]!.port);
        expect(pick<IService & K8sObject>(objs(), "Service", "bun-k8s").spec!.ports![0]!.name).toBe("http");
      });

      test("selectors never carry the version label; every object has the recommended labels", () => {
        for (const d of objs().filter((o) => o.kind === "Deployment") as (IDeployment & K8sObject)[]) {
          expect(Object.keys(d.spec!.selector.matchLabels!)).not.toContain("app.kubernetes.io/version");
          expect(d.spec!.template.metadata!.labels).toMatchObject(d.spec!.selector.matchLabels!);
          for (const l of RECOMMENDED_LABELS) expect(d.spec!.template.metadata!.labels?.[l]).toBeTruthy();
        }
        const missing = objs().flatMap((o) =>
          RECOMMENDED_LABELS.filter((l) => !o.metadata.labels?.[l]).map((l) => `${o.kind}/${o.metadata.name} ${l}`),
        );
        expect(missing).toEqual([]);
      });

      test(`the image is ${IMAGE_NAME} with an explicit tag, pulled only if absent (or never)`, () => {
        const c = container(app(), "bun-k8s");
        const m = /^(?:.*\/)?([^/:@]+)(?::([^/@]+))?$/.exec(c.image!);
        expect(m?.[1]).toBe(IMAGE_NAME);
        expect(m?.[2]).toBeTruthy();
        expect(m?.[2]).not.toBe("latest");
        expect(["IfNotPresent", "Never"]).toContain(c.imagePullPolicy!);
        expect(container(redis(), "redis").image).toBe("redis:7.2-alpine");
      });

      test("security: non-root, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp, no token", () => {
        const problems: string[] = [];
        for (const [d, uid] of [[app(), APP_UID], [redis(), REDIS_UID]] as const) {
          const spec = pod(d);
          const where = d.metadata!.name;
          const sc = spec.securityContext ?? {};
          if (sc.runAsNonRoot !== true) problems.push(`${where}: pod runAsNonRoot`);
          if (sc.runAsUser !== uid || sc.runAsGroup !== uid || sc.fsGroup !== uid) problems.push(`${where}: pod uid/gid/fsGroup != ${uid}`);
          if (sc.seccompProfile?.type !== "RuntimeDefault") problems.push(`${where}: pod seccomp`);
          // Only the app's pods of the learning overlays get a token, for the cluster view's Role.
          const wantsToken = where === "bun-k8s" && CLUSTER_VIEW_OVERLAYS.includes(stack);
          if (spec.automountServiceAccountToken !== wantsToken) problems.push(`${where}: automountServiceAccountToken ${spec.automountServiceAccountToken}`);
          if (!spec.serviceAccountName || spec.serviceAccountName === "default") problems.push(`${where}: own ServiceAccount`);
          if (spec.enableServiceLinks !== false) problems.push(`${where}: enableServiceLinks (REDIS_PORT=tcp://... would be injected)`);
          if (spec.hostNetwork || spec.hostPID || spec.hostIPC) problems.push(`${where}: host namespaces`);
          // Pod Security "restricted" (scripts/k8s.ts labels the namespace it creates) allows only these.
          const restrictedVolumes = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];
          for (const v of spec.volumes ?? []) {
            const types = Object.keys(v).filter((k) => k !== "name");
            if (!types.every((t) => restrictedVolumes.includes(t))) problems.push(`${where}: volume ${v.name} (${types})`);
          }
          for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
            if (isHostPathOwnerStep(stack, d, c)) continue;
            const csc = c.securityContext ?? {};
            if (csc.allowPrivilegeEscalation !== false) problems.push(`${where}/${c.name}: allowPrivilegeEscalation`);
            if (csc.readOnlyRootFilesystem !== true) problems.push(`${where}/${c.name}: readOnlyRootFilesystem`);
            if (csc.privileged === true) problems.push(`${where}/${c.name}: privileged`);
            if (!csc.capabilities?.drop?.includes("ALL")) problems.push(`${where}/${c.name}: capabilities drop ALL`);
            if ((csc.capabilities?.add ?? []).length > 0) problems.push(`${where}/${c.name}: capabilities add`);
            if (csc.runAsUser !== undefined && csc.runAsUser !== uid) problems.push(`${where}/${c.name}: runAsUser`);
            if (csc.runAsNonRoot === false) problems.push(`${where}/${c.name}: runAsNonRoot false`);
            if (!c.volumeMounts?.some((v) => v.mountPath === "/tmp")) problems.push(`${where}/${c.name}: writable /tmp`);
          }
        }
        for (const sa of objs().filter((o) => o.kind === "ServiceAccount")) {
          if ((sa as { automountServiceAccountToken?: boolean }).automountServiceAccountToken !== false) problems.push(`ServiceAccount ${sa.metadata.name}`);
        }
        expect(problems).toEqual([]);
      });

      test("requests and limits are set, requests <= limits, for every container", () => {
        for (const d of [app(), redis()]) {
          for (const c of pod(d).containers) {
            const r = c.resources!;
            for (const res of ["cpu", "memory"]) {
              const req = quantity(r.requests?.[res]);
              const lim = quantity(r.limits?.[res]);
              expect(req).toBeGreaterThan(0);
              expect(req).toBeLessThanOrEqual(lim);
            }
          }
        }
      });

      test("graceful shutdown: terminationGracePeriodSeconds > SHUTDOWN_DELAY_SECONDS + SHUTDOWN_TIMEOUT_SECONDS", () => {
        const delay = Number(cm().SHUTDOWN_DELAY_SECONDS ?? defaultOf("SHUTDOWN_DELAY_SECONDS"));
        const timeout = Number(cm().SHUTDOWN_TIMEOUT_SECONDS ?? defaultOf("SHUTDOWN_TIMEOUT_SECONDS"));
        expect(pod(app()).terminationGracePeriodSeconds!).toBeGreaterThan(delay + timeout);
      });

      test("rollout: RollingUpdate, never below the desired count (maxUnavailable 0), minReadySeconds, revisionHistoryLimit", () => {
        const spec = app().spec!;
        expect(spec.strategy?.type).toBe("RollingUpdate");
        // One pod at a time; high-replica surges by a quarter so 50 pods roll in reasonable time.
        expect(spec.strategy?.rollingUpdate).toEqual({ maxSurge: stack === "high-replica" ? "25%" : 1, maxUnavailable: 0 });
        expect(spec.minReadySeconds!).toBeGreaterThan(0);
        expect(spec.revisionHistoryLimit).toBeDefined();
      });

      test("Prometheus scrape annotations point at the app's /metrics on its port", () => {
        const ann = app().spec!.template.metadata!.annotations ?? {};
        expect(ann["prometheus.io/scrape"]).toBe("true");
        expect(Number(ann["prometheus.io/port"])).toBe(Number(defaultOf("PORT")));
        expect(getRoutes().has(ann["prometheus.io/path"]!)).toBe(true);
      });

      test("HPA (autoscaling/v2) scales the app Deployment on CPU, with a scale-down window; PDB selects the app", () => {
        const hpa = pick<IHorizontalPodAutoscaler & K8sObject>(objs(), "HorizontalPodAutoscaler", "bun-k8s");
        expect(hpa.apiVersion).toBe("autoscaling/v2");
        expect(hpa.spec!.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: app().metadata!.name! });
        const cpu = hpa.spec!.metrics!.find((m) => m.resource?.name === "cpu");
        expect(cpu?.resource?.target).toEqual({ type: "Utilization", averageUtilization: 50 });
        expect(hpa.spec!.behavior!.scaleDown!.stabilizationWindowSeconds!).toBeGreaterThan(0);
        // The HPA owns the count: a replicas field here would be reset by every `kubectl apply`.
        expect(app().spec!.replicas).toBeUndefined();
        expect(hpa.spec!.minReplicas!).toBeGreaterThanOrEqual(1);
        expect(hpa.spec!.minReplicas!).toBeLessThanOrEqual(hpa.spec!.maxReplicas);
        const pdb = pick<IPodDisruptionBudget & K8sObject>(objs(), "PodDisruptionBudget", "bun-k8s");
        expect(app().spec!.template.metadata!.labels).toMatchObject(pdb.spec!.selector!.matchLabels!);
      });

      test("Redis: 1 replica, Recreate, password and append-only on redis-pvc (100Mi RWO), probes, maxmemory under its limit", () => {
        const spec = redis().spec!;
        expect(spec.replicas).toBe(1);
        expect(spec.strategy?.type).toBe("Recreate");
        const c = container(redis(), "redis");
        const args = [...(c.command ?? []), ...(c.args ?? [])];
        const arg = (flag: string) => args[args.indexOf(flag) + 1];
        expect(arg("--requirepass")).toBe("$(REDIS_PASSWORD)");
        expect(arg("--appendonly")).toBe("yes");
        // Every $(VAR) in the arguments is defined in the container's env (else the kubelet passes it literally).
        const envNames = new Set((c.env ?? []).map((e) => e.name));
        for (const ref of args.join(" ").matchAll(/\$\(([A-Z0-9_]+)\)/g)) expect(envNames.has(ref[1]!)).toBe(true);
        const envValue = (n: string) => (c.env ?? []).find((e) => e.name === n)?.value;
        const maxmemory = arg("--maxmemory")!.replace(/^\$\(([A-Z_]+)\)$/, (_, n: string) => envValue(n)!);
        expect(redisBytes(maxmemory)).toBeLessThan(quantity(c.resources!.limits!.memory));
        const mount = c.volumeMounts!.find((m) => m.mountPath === arg("--dir"));
        const volume = pod(redis()).volumes!.find((v) => v.name === mount?.name);
        expect(volume?.persistentVolumeClaim?.claimName).toBe("redis-pvc");
        const pvc = pick<IPersistentVolumeClaim & K8sObject>(objs(), "PersistentVolumeClaim", "redis-pvc");
        expect(pvc.spec!.accessModes).toEqual(["ReadWriteOnce"]);
        expect(pvc.spec!.resources!.requests!.storage).toBe("100Mi");
        expect(c.readinessProbe?.exec?.command?.join(" ")).toContain("redis-cli");
        expect(c.livenessProbe).toBeDefined();
        // redis-cli in the probe authenticates through REDISCLI_AUTH, from the same Secret.
        const cliAuth = (c.env ?? []).find((e) => e.name === "REDISCLI_AUTH")?.valueFrom?.secretKeyRef;
        expect(cliAuth).toEqual((c.env ?? []).find((e) => e.name === "REDIS_PASSWORD")!.valueFrom!.secretKeyRef!);
      });

      test("NetworkPolicy: Redis pods accept ingress only from the app pods, on 6379", () => {
        const np = pick<INetworkPolicy & K8sObject>(objs(), "NetworkPolicy", "redis-allow-app");
        expect(redis().spec!.template.metadata!.labels).toMatchObject(np.spec!.podSelector!.matchLabels!);
        expect(np.spec!.policyTypes).toContain("Ingress");
        expect(np.spec!.ingress).toHaveLength(1);
        const rule = np.spec!.ingress![0]!;
        expect(rule.from).toHaveLength(1);
        expect(rule.from![0]!.namespaceSelector).toBeUndefined();
        expect(app().spec!.template.metadata!.labels).toMatchObject(rule.from![0]!.podSelector!.matchLabels!);
        // ...and that selector does not also match Redis itself.
        expect(redis().spec!.template.metadata!.labels).not.toMatchObject(rule.from![0]!.podSelector!.matchLabels!);
        expect(rule.ports).toEqual([{ protocol: "TCP", port: 6379 }]);
      });

      test("NetworkPolicy: the app takes HTTP only from its namespace, ingress/monitoring namespaces and outside the pod network; egress to DNS and Redis only", () => {
        const np = pick<INetworkPolicy & K8sObject>(objs(), "NetworkPolicy", "bun-k8s-app");
        const labels = app().spec!.template.metadata!.labels!;
        expect(labels).toMatchObject(np.spec!.podSelector!.matchLabels!);
        expect(redis().spec!.template.metadata!.labels).not.toMatchObject(np.spec!.podSelector!.matchLabels!);
        expect(np.spec!.policyTypes).toEqual(["Ingress", "Egress"]);
        const http = app().spec!.template.spec!.containers[0]!.ports!.find((p) => p.name === "http")!;
        for (const rule of np.spec!.ingress!) {
          // Every rule names its sources (an empty `from` would admit every pod of every namespace).
          expect(rule.from?.length).toBeGreaterThan(0);
          expect(rule.ports).toEqual([{ protocol: "TCP", port: http.name! }]);
        }
        const sources = np.spec!.ingress!.flatMap((r) => r.from!);
        expect(sources).toContainEqual({ podSelector: {} });
        // Prometheus (kubelet probes come from the node, which NetworkPolicy does not block).
        const namespaces = sources.flatMap((s) => s.namespaceSelector?.matchExpressions ?? []).flatMap((e) => e.values ?? []);
        expect(namespaces).toContain("monitoring");
        const external = sources.find((s) => s.ipBlock)!.ipBlock!;
        expect(external).toEqual({ cidr: "0.0.0.0/0", except: ["10.244.0.0/16"] });
        // Nothing else in any namespace: no namespaceSelector matches all namespaces.
        expect(sources.every((s) => s.namespaceSelector === undefined || Object.keys(s.namespaceSelector).length > 0)).toBe(true);

        const egress = np.spec!.egress!;
        expect(egress).toHaveLength(2);
        const dns = egress.find((r) => r.ports!.some((p) => p.port === 53))!;
        expect(dns.ports).toEqual([{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }]);
        expect(dns.to).toEqual([{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }]);
        const toRedis = egress.find((r) => r.ports!.some((p) => p.port === 6379))!;
        expect(toRedis.to).toHaveLength(1);
        expect(redis().spec!.template.metadata!.labels).toMatchObject(toRedis.to![0]!.podSelector!.matchLabels!);
        expect(toRedis.to![0]!.namespaceSelector).toBeUndefined();
      });
    });
  }

  // ---------------------------------------------------------- overlay specifics
  describe("Pod Security levels", () => {
    test("every overlay's pods meet 'restricted' except those POD_SECURITY_LEVEL names, which meet 'baseline' by one init step", () => {
      for (const stack of STACKS) {
        const exceptions = (rendered[stack]!.filter((o) => o.kind === "Deployment") as (IDeployment & K8sObject)[])
          .flatMap((d) => (d.spec!.template.spec!.initContainers ?? []).filter((c) => isHostPathOwnerStep(stack, d, c)));
        expect({ stack, exceptions: exceptions.length }).toEqual({ stack, exceptions: podSecurityLevel(stack) === "baseline" ? 1 : 0 });
      }
    });

    test("docker-desktop: Redis' /data is chowned to its uid by a root init step with CAP_CHOWN only", () => {
      const r = rendered["docker-desktop"]!.find((o) => o.kind === "Deployment" && o.metadata.name === "redis") as IDeployment & K8sObject;
      const spec = r.spec!.template.spec!;
      const step = spec.initContainers!.find((c) => c.name === "own-data")!;
      const uid = spec.securityContext!.runAsUser!;
      expect(step.command).toEqual(["chown", `${uid}:${spec.securityContext!.runAsGroup}`, "/data"]);
      expect(step.image).toBe(spec.containers[0]!.image);
      expect(step.volumeMounts).toEqual([{ name: "data", mountPath: "/data" }]);
      // Baseline allows these; restricted would not (non-root, no added capabilities).
      expect(step.securityContext).toMatchObject({
        runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"], add: ["CHOWN"] }, seccompProfile: { type: "RuntimeDefault" },
      });
      expect(spec.volumes!.find((v) => v.name === "data")!.persistentVolumeClaim!.claimName).toBe("redis-pvc");
    });

    test("task deploy labels a namespace it creates with the overlay's level (warn and audit stay restricted)", () => {
      const dd = namespaceManifest("x", podSecurityLevel("docker-desktop")).metadata.labels;
      expect([dd["pod-security.kubernetes.io/enforce"], dd["pod-security.kubernetes.io/warn"], dd["pod-security.kubernetes.io/audit"]]).toEqual(["baseline", "restricted", "restricted"]);
      expect(namespaceManifest("x", podSecurityLevel("kind")).metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    });
  });

  describe("overlay specifics", () => {
    const dep = (stack: string, name = "bun-k8s") => pick<IDeployment & K8sObject>(rendered[stack]!, "Deployment", name);
    const svc = (stack: string) => pick<IService & K8sObject>(rendered[stack]!, "Service", "bun-k8s");
    const hpa = (stack: string) => pick<IHorizontalPodAutoscaler & K8sObject>(rendered[stack]!, "HorizontalPodAutoscaler", "bun-k8s");
    const pdb = (stack: string) => pick<IPodDisruptionBudget & K8sObject>(rendered[stack]!, "PodDisruptionBudget", "bun-k8s");
    const appContainer = (stack: string, name = "bun-k8s") => dep(stack, name).spec!.template.spec!.containers.find((c) => c.name === name)!;
    const cm = (stack: string) => {
      const o = rendered[stack]!.find((x) => x.kind === "ConfigMap" && baseName(x.metadata.name) === "bun-k8s-config") as IConfigMap & K8sObject;
      return o.data ?? {};
    };

    test("base: ClusterIP Service on 80 -> http, HPA 2..10, PDB maxUnavailable 1", () => {
      expect(svc("base").spec!.type).toBe("ClusterIP");
      expect(svc("base").spec!.ports![0]).toMatchObject({ port: 80, targetPort: "http" });
      expect([hpa("base").spec!.minReplicas, hpa("base").spec!.maxReplicas]).toEqual([2, 10]);
      expect(pdb("base").spec!.maxUnavailable).toBe(1);
    });

    test("docker-desktop: LoadBalancer on port 80 -> 8000, HPA floor 5, local image", () => {
      const s = svc("docker-desktop");
      expect(s.spec!.type).toBe("LoadBalancer");
      expect(s.spec!.ports![0]).toMatchObject({ port: 80, targetPort: "http" });
      expect(appContainer("docker-desktop").ports!.find((p) => p.name === "http")!.containerPort).toBe(8000);
      expect(hpa("docker-desktop").spec!.minReplicas).toBe(5);
      expect(["IfNotPresent", "Never"]).toContain(appContainer("docker-desktop").imagePullPolicy!);
    });

    test("kind: NodePort published on localhost by kustomize/kind/cluster.yaml, image never pulled", () => {
      const s = svc("kind");
      expect(s.spec!.type).toBe("NodePort");
      const nodePort = s.spec!.ports![0]!.nodePort!;
      expect(nodePort).toBeGreaterThanOrEqual(30000);
      expect(nodePort).toBeLessThanOrEqual(32767);
      expect(appContainer("kind").imagePullPolicy).toBe("Never");
      const cluster = YAML.parse(readFileSync(join(KUSTOMIZE_DIR, "kind", "cluster.yaml"), "utf8")) as {
        kind: string; apiVersion: string;
        nodes: { role: string; extraPortMappings?: { containerPort: number; hostPort: number; listenAddress?: string; protocol?: string }[] }[];
      };
      expect(cluster.kind).toBe("Cluster");
      expect(cluster.apiVersion).toBe("kind.x-k8s.io/v1alpha4");
      const mappings = cluster.nodes.flatMap((n) => n.extraPortMappings ?? []);
      const mapping = mappings.find((m) => m.containerPort === nodePort);
      expect(mapping).toBeDefined();
      expect(mapping!.hostPort).toBeGreaterThan(0);
      expect(["127.0.0.1", undefined]).toContain(mapping!.listenAddress);
      expect(mapping!.protocol ?? "TCP").toBe("TCP");
      // The mapping lives on the control-plane node (kind publishes ports of that container).
      expect(cluster.nodes.find((n) => n.extraPortMappings?.includes(mapping!))?.role).toBe("control-plane");
    });

    test("kind: metrics-server is pinned to v0.7.x, patched with --kubelet-insecure-tls, and serves the metrics API", () => {
      const ms = pick<IDeployment & K8sObject>(metricsServer, "Deployment", "metrics-server");
      const c = ms.spec!.template.spec!.containers[0]!;
      expect(c.image).toMatch(/^registry\.k8s\.io\/metrics-server\/metrics-server:v0\.7\.\d+$/);
      expect(c.args).toContain("--kubelet-insecure-tls");
      expect(ms.metadata.namespace).toBe("kube-system");
      const api = pick(metricsServer, "APIService", "v1beta1.metrics.k8s.io") as K8sObject & { spec: { service: { name: string; namespace: string } } };
      expect(api.spec.service).toEqual({ name: "metrics-server", namespace: "kube-system" });
      expect(metricsServer.some((o) => o.kind === "Service" && o.metadata.name === "metrics-server")).toBe(true);
    });

    test("high-replica: HPA 20..50, spread over zones and nodes, percentage PDB", () => {
      const d = dep("high-replica");
      expect([hpa("high-replica").spec!.minReplicas, hpa("high-replica").spec!.maxReplicas]).toEqual([20, 50]);
      const tsc = d.spec!.template.spec!.topologySpreadConstraints ?? [];
      expect(tsc.map((t) => t.topologyKey).sort()).toEqual(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
      for (const t of tsc) expect(d.spec!.template.metadata!.labels).toMatchObject(t.labelSelector!.matchLabels!);
      expect(String(pdb("high-replica").spec!.maxUnavailable ?? pdb("high-replica").spec!.minAvailable)).toMatch(/^\d+%$/);
    });

    test("high-replica looks like production: chaos routes and fault injection are off", () => {
      expect(cm("high-replica").CHAOS_ENABLED).toBe("false");
      expect(configFrom(cm("high-replica")).chaosEnabled).toBe(false);
      for (const stack of ["base", "kind", "docker-desktop"]) expect(cm(stack).CHAOS_ENABLED).toBe("true");
    });

    test("every overlay's app memory limit is above the peak RSS the benchmark measured under load", () => {
      const bench = JSON.parse(readFileSync(join(ROOT, "bench", "latest.json"), "utf8")) as {
        memory: { underLoad: { "bun-k8s": { peakRssMb: number } }; afterRounds: { "bun-k8s": { peakRssMb: number } } };
      };
      const peak = Math.max(bench.memory.underLoad["bun-k8s"].peakRssMb, bench.memory.afterRounds["bun-k8s"].peakRssMb) * 2 ** 20;
      for (const stack of STACKS) expect({ stack, above: quantity(appContainer(stack).resources!.limits!.memory) > peak }).toEqual({ stack, above: true });
    });

    test("high-replica: less CPU per app pod, a bigger Redis with room for every pod's connections", () => {
      const small = appContainer("high-replica").resources!;
      const normal = appContainer("base").resources!;
      expect(quantity(small.limits!.cpu)).toBeLessThan(quantity(normal.limits!.cpu));
      const big = appContainer("high-replica", "redis");
      const usual = appContainer("base", "redis");
      expect(quantity(big.resources!.limits!.cpu)).toBeGreaterThan(quantity(usual.resources!.limits!.cpu));
      expect(quantity(big.resources!.limits!.memory)).toBeGreaterThan(quantity(usual.resources!.limits!.memory));
      const maxclients = Number(big.env!.find((e) => e.name === "REDIS_MAXCLIENTS")!.value);
      // Every pod at the HPA ceiling, twice over for rolling updates and reconnects.
      expect(maxclients).toBeGreaterThanOrEqual(2 * hpa("high-replica").spec!.maxReplicas * REDIS_CONNECTIONS_PER_POD);
      // /stress/memory stays inside the limit.
      expect(Number(cm("high-replica").MAX_MEMORY_STRESS_MB) * 2 ** 20).toBeLessThan(quantity(small.limits!.memory));
    });

    test("each overlay sets its image tag once with images: (kind and docker-desktop use a local tag)", () => {
      for (const overlay of OVERLAYS) {
        const k = YAML.parse(readFileSync(join(KUSTOMIZE_DIR, "overlays", overlay, "kustomization.yaml"), "utf8")) as {
          images?: { name: string; newTag?: string }[];
        };
        const entries = (k.images ?? []).filter((i) => i.name === IMAGE_NAME);
        expect(entries).toHaveLength(1);
        expect(appContainer(overlay).image!.endsWith(`:${entries[0]!.newTag}`)).toBe(true);
      }
    });
  });

  // --------------------------------------------------- the files that build the image
  describe("image build files agree with the manifests", () => {
    const read = (p: string) => (existsSync(join(ROOT, p)) ? readFileSync(join(ROOT, p), "utf8") : undefined);
    const appC = () => pick<IDeployment & K8sObject>(rendered.base!, "Deployment", "bun-k8s").spec!.template.spec!.containers[0]!;

    test("Dockerfile: EXPOSE and USER equal the container port and uid", () => {
      const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
      const expose = /^\s*EXPOSE\s+(\d+)/im.exec(dockerfile);
      expect(Number(expose?.[1])).toBe(appC().ports![0]!.containerPort);
      const user = [...dockerfile.matchAll(/^\s*USER\s+(\S+)/gim)].at(-1);
      expect(user?.[1]!.split(":")[0]).toBe(String(APP_UID));
    });

    test("the image the cluster scripts build and load is the one the kind and docker-desktop overlays deploy", () => {
      for (const overlay of ["kind", "docker-desktop"]) {
        const deployed = pick<IDeployment & K8sObject>(rendered[overlay]!, "Deployment", "bun-k8s").spec!.template.spec!.containers[0]!.image!;
        expect(clusterSettings.overlayImage(overlay)).toBe(deployed);
      }
    });

    test("the cluster scripts' names and label selectors match the rendered objects (scripts/lib/cluster-settings.ts)", async () => {
      const settings = clusterSettings as unknown as Record<string, unknown>;
      const str = (k: string) => (typeof settings[k] === "string" ? (settings[k] as string) : undefined);
      if (str("IMAGE_NAME") !== undefined) expect(str("IMAGE_NAME")).toBe(IMAGE_NAME);
      const objects = rendered.kind!;
      for (const [key, kind] of [["APP_DEPLOYMENT", "Deployment"], ["REDIS_DEPLOYMENT", "Deployment"], ["APP_SERVICE", "Service"],
        ["APP_HPA", "HorizontalPodAutoscaler"], ["REDIS_PVC", "PersistentVolumeClaim"]] as const) {
        const name = str(key);
        if (name !== undefined) expect(`${kind}/${name} ${objects.some((o) => o.kind === kind && o.metadata.name === name)}`).toBe(`${kind}/${name} true`);
      }
      const labels = (selector: string) => Object.fromEntries(selector.split(",").map((kv) => kv.split("=") as [string, string]));
      const podLabels = (name: string) => pick<IDeployment & K8sObject>(objects, "Deployment", name).spec!.template.metadata!.labels;
      if (str("APP_SELECTOR")) expect(podLabels("bun-k8s")).toMatchObject(labels(str("APP_SELECTOR")!));
      if (str("REDIS_SELECTOR")) expect(podLabels("redis")).toMatchObject(labels(str("REDIS_SELECTOR")!));
      if (str("STACK_SELECTOR")) {
        for (const o of objects) expect(o.metadata.labels).toMatchObject(labels(str("STACK_SELECTOR")!));
      }
      // `task up` / `task image` build and `kind load` the image these functions compute.
      if (typeof settings.overlayImage === "function") {
        const overlayImage = settings.overlayImage as (overlay: string) => string;
        for (const overlay of OVERLAYS) {
          const image = pick<IDeployment & K8sObject>(rendered[overlay]!, "Deployment", "bun-k8s").spec!.template.spec!.containers[0]!.image!;
          expect(`${overlay}: ${overlayImage(overlay)}`).toBe(`${overlay}: ${image}`);
        }
      }
      if (typeof settings.kindSettings === "function") {
        const kind = (settings.kindSettings as () => { nodePort: number | null; url: string | null })();
        expect(kind.nodePort).toBe(pick<IService & K8sObject>(objects, "Service", "bun-k8s").spec!.ports![0]!.nodePort!);
        expect(kind.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      }
      if (str("KIND_CONFIG")) expect(str("KIND_CONFIG")).toBe("kustomize/kind/cluster.yaml");
      if (str("METRICS_SERVER")) expect(existsSync(join(ROOT, str("METRICS_SERVER")!, "kustomization.yaml"))).toBe(true);
    });
  });
});
