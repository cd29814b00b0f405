import type { Config } from "./config";
import type { ClusterView } from "./modules/cluster/watcher";
import type { Lifecycle } from "./lifecycle";
import type { Logger } from "./logger";
import type { Metrics } from "./metrics";
import type { Store } from "./store/types";

/** Everything a module needs, built by main.ts (or a test) and passed to createApp. */
export interface AppDeps {
  config: Config;
  store: Store;
  lifecycle: Lifecycle;
  metrics: Metrics;
  logger: Logger;
  /** os.hostname(): the pod name in Kubernetes. */
  hostname: string;
  /** This replica's id in /replicas (POD_NAME, or hostname-pid outside Kubernetes). */
  replicaId: string;
  /** The process environment, for the Downward API values in /info. */
  env: Record<string, string | undefined>;
  /** The cluster view's shared watches (inert unless CLUSTER_VIEW is on). */
  clusterView: ClusterView;
  /** How /crash ends the process; tests replace it. */
  exit: (code: number) => void;
}
