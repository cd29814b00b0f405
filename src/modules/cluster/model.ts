// The cluster view's model: from the objects the watches hold to the tree the dashboard draws.
// Pure, so every rule here (ownership, readiness, endpoint conditions, the HPA's numbers) is
// tested with plain objects; what the API server sends is tested on the real cluster.

/** The subset of a Kubernetes object this view reads (client-node's classes and plain JSON both fit). */
export interface ObjectMeta {
  name?: string;
  uid?: string;
  creationTimestamp?: Date | string;
  deletionTimestamp?: Date | string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  ownerReferences?: Array<{ kind?: string; name?: string; uid?: string; controller?: boolean }>;
}

export interface PodObject {
  metadata?: ObjectMeta;
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: Array<{ type?: string; status?: string }>;
    containerStatuses?: Array<{
      restartCount?: number;
      ready?: boolean;
      state?: { waiting?: { reason?: string }; terminated?: { reason?: string } };
      lastState?: { terminated?: { reason?: string } };
    }>;
  };
}

export interface ReplicaSetObject {
  metadata?: ObjectMeta;
  spec?: { replicas?: number };
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number };
}

export interface DeploymentObject {
  metadata?: ObjectMeta;
  spec?: { replicas?: number };
  status?: { replicas?: number; updatedReplicas?: number; readyReplicas?: number; availableReplicas?: number };
}

export interface EndpointSliceObject {
  metadata?: ObjectMeta;
  endpoints?: Array<{
    addresses?: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    targetRef?: { kind?: string; name?: string };
  }>;
}

export interface HpaObject {
  metadata?: ObjectMeta;
  spec?: {
    minReplicas?: number;
    maxReplicas?: number;
    scaleTargetRef?: { kind?: string; name?: string };
    metrics?: Array<{ type?: string; resource?: { name?: string; target?: { averageUtilization?: number } } }>;
  };
  status?: {
    currentReplicas?: number;
    desiredReplicas?: number;
    lastScaleTime?: Date | string;
    currentMetrics?: Array<{ type?: string; resource?: { name?: string; current?: { averageUtilization?: number } } }>;
  };
}

export interface EventObject {
  metadata?: ObjectMeta;
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  involvedObject?: { kind?: string; name?: string };
  lastTimestamp?: Date | string;
  eventTime?: Date | string;
  firstTimestamp?: Date | string;
}

export interface ClusterObjects {
  pods: PodObject[];
  replicaSets: ReplicaSetObject[];
  deployments: DeploymentObject[];
  endpointSlices: EndpointSliceObject[];
  hpas: HpaObject[];
  events: EventObject[];
}

/** A pod's entry in its Service's EndpointSlice: what the Service routes by. */
export interface EndpointView {
  service: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

export interface PodView {
  name: string;
  phase: string;
  ready: boolean;
  terminating: boolean;
  restarts: number;
  /** Why the container is not running, or why it last stopped (CrashLoopBackOff, OOMKilled...). */
  reason: string | null;
  node: string | null;
  ip: string | null;
  createdAt: string | null;
  /** null: no EndpointSlice lists the pod (no Service selects it, or it has no address yet). */
  endpoint: EndpointView | null;
}

export interface ReplicaSetView {
  name: string;
  revision: number | null;
  desired: number;
  ready: number;
  createdAt: string | null;
  pods: PodView[];
}

export interface DeploymentView {
  name: string;
  desired: number;
  updated: number;
  ready: number;
  available: number;
  revision: number | null;
  replicaSets: ReplicaSetView[];
}

export interface HpaView {
  name: string;
  target: string;
  min: number;
  max: number;
  current: number;
  desired: number;
  cpuPercent: number | null;
  cpuTargetPercent: number | null;
  lastScaleTime: string | null;
}

export interface EventView {
  type: string;
  reason: string;
  object: string;
  message: string;
  count: number;
  at: string | null;
}

export interface ClusterTree {
  deployments: DeploymentView[];
  /** Pods no Deployment owns (a test pod, a Job's pod). */
  otherPods: PodView[];
  hpas: HpaView[];
  events: EventView[];
}

/** Events the view keeps, newest first. */
export const MAX_EVENTS = 25;

const iso = (value: Date | string | undefined): string | null => {
  if (value === undefined || value === null) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
};

const controllerOf = (meta: ObjectMeta | undefined, kind: string) =>
  meta?.ownerReferences?.find((ref) => ref.kind === kind && ref.controller !== false);

const revisionOf = (meta: ObjectMeta | undefined): number | null => {
  const value = Number(meta?.annotations?.["deployment.kubernetes.io/revision"]);
  return Number.isInteger(value) && value > 0 ? value : null;
};

const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);

/** Endpoint conditions by pod name, over every EndpointSlice of the namespace. */
export function endpointsByPod(slices: EndpointSliceObject[]): Map<string, EndpointView> {
  const found = new Map<string, EndpointView>();
  for (const slice of slices) {
    const service = slice.metadata?.labels?.["kubernetes.io/service-name"] ?? slice.metadata?.name ?? "";
    for (const endpoint of slice.endpoints ?? []) {
      const ref = endpoint.targetRef;
      if (ref?.kind !== "Pod" || !ref.name) continue;
      const conditions = endpoint.conditions ?? {};
      // EndpointSlice API: a nil ready means ready, a nil serving means "same as ready".
      const ready = conditions.ready !== false;
      found.set(ref.name, {
        service,
        ready,
        serving: conditions.serving ?? ready,
        terminating: conditions.terminating === true,
      });
    }
  }
  return found;
}

export function podView(pod: PodObject, endpoints: Map<string, EndpointView>): PodView {
  const name = pod.metadata?.name ?? "";
  const container = pod.status?.containerStatuses?.[0];
  const reason =
    container?.state?.waiting?.reason ?? container?.state?.terminated?.reason ?? container?.lastState?.terminated?.reason ?? null;
  return {
    name,
    phase: pod.status?.phase ?? "Unknown",
    ready: pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    terminating: pod.metadata?.deletionTimestamp !== undefined && pod.metadata?.deletionTimestamp !== null,
    restarts: (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + (c.restartCount ?? 0), 0),
    reason,
    node: pod.spec?.nodeName ?? null,
    ip: pod.status?.podIP ?? null,
    createdAt: iso(pod.metadata?.creationTimestamp),
    endpoint: endpoints.get(name) ?? null,
  };
}

function hpaView(hpa: HpaObject): HpaView {
  const cpuTarget = hpa.spec?.metrics?.find((m) => m.type === "Resource" && m.resource?.name === "cpu");
  const cpuNow = hpa.status?.currentMetrics?.find((m) => m.type === "Resource" && m.resource?.name === "cpu");
  return {
    name: hpa.metadata?.name ?? "",
    target: `${hpa.spec?.scaleTargetRef?.kind ?? "?"}/${hpa.spec?.scaleTargetRef?.name ?? "?"}`,
    min: hpa.spec?.minReplicas ?? 1,
    max: hpa.spec?.maxReplicas ?? 0,
    current: hpa.status?.currentReplicas ?? 0,
    desired: hpa.status?.desiredReplicas ?? 0,
    cpuPercent: cpuNow?.resource?.current?.averageUtilization ?? null,
    cpuTargetPercent: cpuTarget?.resource?.target?.averageUtilization ?? null,
    lastScaleTime: iso(hpa.status?.lastScaleTime),
  };
}

function eventView(event: EventObject): EventView {
  const object = event.involvedObject;
  return {
    type: event.type ?? "Normal",
    reason: event.reason ?? "",
    object: `${object?.kind ?? "?"}/${object?.name ?? "?"}`,
    message: event.message ?? "",
    count: event.count ?? 1,
    at: iso(event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata?.creationTimestamp),
  };
}

/**
 * Deployment -> ReplicaSets (newest revision first) -> Pods, by controller owner references, the
 * way the controllers themselves link them. A ReplicaSet scaled to 0 with no pods left is history
 * (`kubectl rollout history`), not part of the picture, and is left out.
 */
export function buildTree(objects: ClusterObjects): ClusterTree {
  const endpoints = endpointsByPod(objects.endpointSlices);
  const podsByReplicaSet = new Map<string, PodView[]>();
  const otherPods: PodView[] = [];
  const replicaSetUids = new Set(objects.replicaSets.map((rs) => rs.metadata?.uid));
  for (const pod of objects.pods) {
    const owner = controllerOf(pod.metadata, "ReplicaSet");
    const view = podView(pod, endpoints);
    if (owner?.uid && replicaSetUids.has(owner.uid)) {
      const list = podsByReplicaSet.get(owner.uid) ?? [];
      list.push(view);
      podsByReplicaSet.set(owner.uid, list);
    } else {
      otherPods.push(view);
    }
  }
  const replicaSetsByDeployment = new Map<string, ReplicaSetView[]>();
  for (const rs of objects.replicaSets) {
    const owner = controllerOf(rs.metadata, "Deployment");
    if (!owner?.uid) continue;
    const pods = (podsByReplicaSet.get(rs.metadata?.uid ?? "") ?? []).sort(byName);
    const desired = rs.spec?.replicas ?? 0;
    if (desired === 0 && pods.length === 0) continue;
    const list = replicaSetsByDeployment.get(owner.uid) ?? [];
    list.push({
      name: rs.metadata?.name ?? "",
      revision: revisionOf(rs.metadata),
      desired,
      ready: rs.status?.readyReplicas ?? 0,
      createdAt: iso(rs.metadata?.creationTimestamp),
      pods,
    });
    replicaSetsByDeployment.set(owner.uid, list);
  }
  const deployments = objects.deployments
    .map((d): DeploymentView => ({
      name: d.metadata?.name ?? "",
      desired: d.spec?.replicas ?? 0,
      updated: d.status?.updatedReplicas ?? 0,
      ready: d.status?.readyReplicas ?? 0,
      available: d.status?.availableReplicas ?? 0,
      revision: revisionOf(d.metadata),
      replicaSets: (replicaSetsByDeployment.get(d.metadata?.uid ?? "") ?? []).sort(
        (a, b) => (b.revision ?? 0) - (a.revision ?? 0) || byName(a, b),
      ),
    }))
    .sort(byName);
  const events = objects.events
    .map(eventView)
    .sort((a, b) => (b.at ?? "").localeCompare(a.at ?? ""))
    .slice(0, MAX_EVENTS);
  return { deployments, otherPods: otherPods.sort(byName), hpas: objects.hpas.map(hpaView).sort(byName), events };
}
