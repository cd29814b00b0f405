// One set of watches per process (list, then watch from its resourceVersion, through
// @kubernetes/client-node's informers), shared by every dashboard that streams /cluster/events.
// Nothing is loaded or opened until the first request for the view: with CLUSTER_VIEW off, or
// on but never opened, the client library is never imported.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Config } from "../../config";
import { embeddedModuleUrl } from "../../embedded";
import type { Logger } from "../../logger";
import { buildTree, type ClusterObjects, type ClusterTree } from "./model";

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export type ViewState = "off" | "connecting" | "live" | "error";

export interface ClusterSnapshot extends ClusterTree {
  state: ViewState;
  /** Why the view is not live, in words a learner can act on. */
  reason: string | null;
  namespace: string | null;
  /** The pod that holds these watches (every replica has its own). */
  server: string;
  updatedAt: string;
}

type Resource = keyof ClusterObjects;

interface InformerLike {
  on(verb: "change", cb: (obj: unknown) => void): void;
  on(verb: "error", cb: (err?: unknown) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  list(namespace?: string): unknown[];
}

/** What the view watches; the component's Role (kustomize/components/cluster-view) grants exactly this. */
export const WATCHED: Record<Resource, { group: string; version: string; plural: string }> = {
  deployments: { group: "apps", version: "v1", plural: "deployments" },
  replicaSets: { group: "apps", version: "v1", plural: "replicasets" },
  pods: { group: "", version: "v1", plural: "pods" },
  endpointSlices: { group: "discovery.k8s.io", version: "v1", plural: "endpointslices" },
  hpas: { group: "autoscaling", version: "v2", plural: "horizontalpodautoscalers" },
  events: { group: "", version: "v1", plural: "events" },
};

const watchPath = (resource: Resource, namespace: string) => {
  const { group, version, plural } = WATCHED[resource];
  return `${group ? `/apis/${group}` : "/api"}/${version}/namespaces/${namespace}/${plural}`;
};

const EMPTY_TREE: ClusterTree = { deployments: [], otherPods: [], hpas: [], events: [] };
/** Changes are sent at most this often: a rollout of 50 pods is hundreds of watch events. */
const PUBLISH_EVERY_MS = 250;
const RETRY_FIRST_MS = 2_000;
const RETRY_MAX_MS = 30_000;

export interface ClusterViewOptions {
  config: Pick<Config, "clusterView" | "clusterViewNamespace" | "clusterViewMaxClients">;
  logger: Logger;
  env: Record<string, string | undefined>;
  server: string;
  /** Where the ServiceAccount's token, CA and namespace are mounted; tests point it elsewhere. */
  serviceAccountDir?: string;
}

/** Turns a client or API error into one sentence that says what to do. */
export function describeError(err: unknown, resource: string, namespace: string): string {
  const e = err as { code?: number; statusCode?: number; message?: string; cause?: { code?: string; message?: string } } | undefined;
  const status = e?.code ?? e?.statusCode;
  const message = e?.message ?? String(err);
  if (status === 403) {
    return `forbidden: this pod's ServiceAccount may not list ${resource} in namespace ${namespace}; the read-only Role of kustomize/components/cluster-view grants it`;
  }
  if (status === 401) return `unauthorized: the API server refused this pod's ServiceAccount token`;
  if (/certificate|self.signed|UNABLE_TO_VERIFY/i.test(message + (e?.cause?.message ?? ""))) {
    return `TLS: the API server's certificate is not trusted (${message}); Bun ignores the kubeconfig's CA, so start the service with NODE_EXTRA_CA_CERTS set to the CA file (the cluster-view component sets it to the ServiceAccount's ca.crt)`;
  }
  if (/ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|timed? ?out|Unable to connect|ConnectionRefused/i.test(message + (e?.cause?.code ?? ""))) {
    return `the API server did not answer (${message}); is egress to it allowed (the cluster-view component's NetworkPolicy)?`;
  }
  return `${resource}: ${message}`;
}

export class ClusterView {
  readonly enabled: boolean;
  readonly maxClients: number;
  #state: ViewState;
  #reason: string | null;
  #namespace: string | null = null;
  #informers = new Map<Resource, InformerLike>();
  #synced = new Set<Resource>();
  #errors = new Map<Resource, string>();
  #retryMs = new Map<Resource, number>();
  #timers = new Set<ReturnType<typeof setTimeout>>();
  /** Each stream's send, with how to end it at shutdown. */
  #subscribers = new Map<(snapshot: string) => void, () => void>();
  #started: Promise<void> | null = null;
  #publishTimer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;
  #snapshot: ClusterSnapshot;
  #serialized: string;

  constructor(private readonly options: ClusterViewOptions) {
    this.enabled = options.config.clusterView;
    this.maxClients = options.config.clusterViewMaxClients;
    this.#state = this.enabled ? "connecting" : "off";
    this.#reason = this.enabled ? "connecting to the Kubernetes API" : "CLUSTER_VIEW is off; the kind and docker-desktop overlays turn it on";
    this.#snapshot = this.#build();
    this.#serialized = JSON.stringify(this.#snapshot);
  }

  get clients(): number {
    return this.#subscribers.size;
  }

  /** Resolves when the view is live or has failed, or after `ms`. */
  async settled(ms: number): Promise<ClusterSnapshot> {
    void this.start();
    const deadline = performance.now() + ms;
    while (this.#state === "connecting" && performance.now() < deadline) await Bun.sleep(50);
    return this.#snapshot;
  }

  /**
   * Calls `send` with the serialized snapshot now and after every change, and `end` when the
   * process shuts down; returns the unsubscribe.
   */
  subscribe(send: (snapshot: string) => void, end: () => void = () => {}): () => void {
    void this.start();
    this.#subscribers.set(send, end);
    send(this.#serialized);
    return () => void this.#subscribers.delete(send);
  }

  start(): Promise<void> {
    if (!this.enabled || this.#stopped) return Promise.resolve();
    this.#started ??= this.#connect().catch((err) => {
      this.#fail(`cannot start the cluster view: ${(err as Error).message}`);
    });
    return this.#started;
  }

  /** Shutdown: close every stream (browsers reconnect to another replica) and every watch. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#publishTimer) clearTimeout(this.#publishTimer);
    const closing = [...this.#informers.values()].map((informer) => informer.stop().catch(() => undefined));
    this.#informers.clear();
    for (const end of this.#subscribers.values()) end();
    this.#subscribers.clear();
    await Promise.all(closing);
  }

  async #connect(): Promise<void> {
    const dir = this.options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
    const env = this.options.env;
    // In a pod, the pod's own ServiceAccount; elsewhere (a developer's machine), the kubeconfig.
    const inCluster = Boolean(env.KUBERNETES_SERVICE_HOST);
    const kubeconfig = (env.KUBECONFIG || join(homedir(), ".kube", "config")).split(":")[0]!;
    if (inCluster && !existsSync(join(dir, "token"))) {
      this.#fail(`this pod has no ServiceAccount token at ${dir} (automountServiceAccountToken is false; the cluster-view component turns it on)`);
      return;
    }
    if (!inCluster && !existsSync(kubeconfig)) {
      this.#fail("not running in Kubernetes (no KUBERNETES_SERVICE_HOST) and no kubeconfig found");
      return;
    }
    const k8s = (await import(embeddedModuleUrl("cluster/client.ts"))) as typeof import("./client");
    const kc = new k8s.KubeConfig();
    if (inCluster) kc.loadFromCluster();
    else kc.loadFromFile(kubeconfig);
    if (!kc.getCurrentCluster()) {
      this.#fail(`the kubeconfig ${inCluster ? "built from the ServiceAccount" : kubeconfig} has no current cluster`);
      return;
    }
    const namespace =
      this.options.config.clusterViewNamespace ||
      readIfExists(join(dir, "namespace")) ||
      env.POD_NAMESPACE ||
      kc.getContextObject(kc.getCurrentContext())?.namespace ||
      "default";
    this.#namespace = namespace;
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
    const autoscaling = kc.makeApiClient(k8s.AutoscalingV2Api);
    const lists: Record<Resource, () => Promise<never>> = {
      deployments: () => apps.listNamespacedDeployment({ namespace }) as Promise<never>,
      replicaSets: () => apps.listNamespacedReplicaSet({ namespace }) as Promise<never>,
      pods: () => core.listNamespacedPod({ namespace }) as Promise<never>,
      endpointSlices: () => discovery.listNamespacedEndpointSlice({ namespace }) as Promise<never>,
      hpas: () => autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace }) as Promise<never>,
      events: () => core.listNamespacedEvent({ namespace }) as Promise<never>,
    };
    this.options.logger.info("cluster view: watching", { namespace, in_cluster: inCluster });
    for (const resource of Object.keys(WATCHED) as Resource[]) {
      const informer = k8s.makeInformer(kc, watchPath(resource, namespace), lists[resource]) as unknown as InformerLike;
      informer.on("change", () => this.#schedulePublish());
      informer.on("error", (err) => this.#onError(resource, err));
      this.#informers.set(resource, informer);
    }
    await Promise.all([...this.#informers.keys()].map((resource) => this.#run(resource)));
  }

  async #run(resource: Resource): Promise<void> {
    const informer = this.#informers.get(resource);
    if (!informer || this.#stopped) return;
    this.#errors.delete(resource);
    await informer.start();
    // start() returns after the list and the watch request, or after an error it has reported.
    if (!this.#errors.has(resource)) {
      this.#synced.add(resource);
      this.#retryMs.delete(resource);
      this.#schedulePublish();
    }
  }

  #onError(resource: Resource, err: unknown) {
    if (this.#stopped) return;
    const reason = describeError(err, WATCHED[resource].plural, this.#namespace ?? "?");
    if (this.#errors.get(resource) !== reason) this.options.logger.warn("cluster view: watch failed", { resource, reason });
    this.#errors.set(resource, reason);
    this.#synced.delete(resource);
    const wait = this.#retryMs.get(resource) ?? RETRY_FIRST_MS;
    this.#retryMs.set(resource, Math.min(wait * 2, RETRY_MAX_MS));
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#run(resource);
    }, wait);
    this.#timers.add(timer);
    this.#schedulePublish();
  }

  #fail(reason: string) {
    this.options.logger.warn("cluster view unavailable", { reason });
    this.#state = "error";
    this.#reason = reason;
    this.#publishNow();
  }

  #schedulePublish() {
    if (this.#publishTimer || this.#stopped) return;
    this.#publishTimer = setTimeout(() => {
      this.#publishTimer = null;
      this.#publishNow();
    }, PUBLISH_EVERY_MS);
  }

  #publishNow() {
    if (this.#informers.size > 0) {
      const firstError = [...this.#errors.values()][0];
      if (firstError) {
        this.#state = "error";
        this.#reason = firstError;
      } else if (this.#synced.size === this.#informers.size) {
        this.#state = "live";
        this.#reason = null;
      } else {
        this.#state = "connecting";
        this.#reason = "listing the namespace's objects";
      }
    }
    this.#snapshot = this.#build();
    this.#serialized = JSON.stringify(this.#snapshot);
    for (const send of this.#subscribers.keys()) send(this.#serialized);
  }

  #build(): ClusterSnapshot {
    const list = (resource: Resource) => (this.#informers.get(resource)?.list() ?? []) as never[];
    const tree =
      this.#informers.size === 0
        ? EMPTY_TREE
        : buildTree({
            deployments: list("deployments"),
            replicaSets: list("replicaSets"),
            pods: list("pods"),
            endpointSlices: list("endpointSlices"),
            hpas: list("hpas"),
            events: list("events"),
          });
    return {
      state: this.#state,
      reason: this.#reason,
      namespace: this.#namespace,
      server: this.options.server,
      updatedAt: new Date().toISOString(),
      ...tree,
    };
  }
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}
