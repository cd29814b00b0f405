// Where the local cluster lives and how it is wired: one place for every path, address and name.
// The cluster runs as host processes (etcd, the control plane, a kubelet on its own containerd,
// kube-proxy, kube-router for NetworkPolicy), in the manner of Kubernetes' local-up-cluster.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const env = process.env;

/** Everything the running cluster writes: certificates, etcd data, logs, pid files, kubelet and containerd state. */
export const STATE_DIR = env.BUN_K8S_CLUSTER_STATE ?? "/var/lib/bun-k8s-cluster";
/** Sockets and other runtime files; cleared on `down`. */
export const RUN_DIR = env.BUN_K8S_CLUSTER_RUN ?? "/run/bun-k8s-cluster";

export const PATHS = {
  pki: join(STATE_DIR, "pki"),
  logs: join(STATE_DIR, "logs"),
  pids: join(RUN_DIR, "pids"),
  etcdData: join(STATE_DIR, "etcd"),
  kubeconfigs: join(STATE_DIR, "kubeconfig"),
  config: join(STATE_DIR, "config"),
  kubeletRoot: join(STATE_DIR, "kubelet"),
  podLogs: join(STATE_DIR, "pod-logs"),
  containerdRoot: join(STATE_DIR, "containerd"),
  containerdState: join(RUN_DIR, "containerd"),
  containerdSocket: join(RUN_DIR, "containerd.sock"),
  cniConf: join(STATE_DIR, "cni", "net.d"),
  cniBin: "/usr/lib/cni",
  localVolumes: join(STATE_DIR, "local-path"),
} as const;

/** The kubeconfig context `cluster:up` writes into the user's kubeconfig and selects. */
export const CONTEXT = "bun-k8s-local";
export const CLUSTER_NAME = "bun-k8s-local";
export const NODE_NAME = "bun-k8s-node";

export const NETWORK = {
  /** Pods get addresses from this range (kind's default), one /24 per node. */
  podCidr: "10.244.0.0/16",
  nodePodCidr: "10.244.0.0/24",
  serviceCidr: "10.96.0.0/16",
  /** First address of the service range: the `kubernetes` Service. */
  apiServiceIp: "10.96.0.1",
  dnsServiceIp: "10.96.0.10",
  /** Addresses kube-router's allocator gives Services of type LoadBalancer (16, private, unused here). */
  loadBalancerCidr: "10.250.0.0/28",
  clusterDomain: "cluster.local",
  bridge: "bunk8s0",
} as const;

export const PORTS = {
  apiserver: 6443,
  etcdClient: 2379,
  etcdPeer: 2380,
  kubelet: 10250,
  /** Traefik's HTTP entry point, the local cluster's ingress controller (on 127.0.0.1 only). */
  ingressHttp: 8081,
} as const;

/** The machine's primary IPv4 address (source of the default route): the node's InternalIP. */
export function nodeIp(): string {
  const r = Bun.spawnSync(["ip", "-4", "-o", "route", "get", "1.1.1.1"], { stdout: "pipe", stderr: "pipe" });
  const m = /\bsrc (\d+\.\d+\.\d+\.\d+)/.exec(r.stdout.toString());
  if (m) return m[1]!;
  // No default route: the first global address.
  const a = Bun.spawnSync(["ip", "-4", "-o", "addr", "show", "scope", "global"], { stdout: "pipe" });
  const m2 = /inet (\d+\.\d+\.\d+\.\d+)/.exec(a.stdout.toString());
  if (m2) return m2[1]!;
  throw new Error("no global IPv4 address on this machine: the node needs one that pods can reach");
}

export const apiserverUrl = () => `https://${nodeIp()}:${PORTS.apiserver}`;

/** The kubeconfig the user's kubectl reads (KUBECONFIG's first entry, else ~/.kube/config). */
export function userKubeconfig(): string {
  const first = (env.KUBECONFIG ?? "").split(":").find(Boolean);
  return first ?? join(env.HOME ?? "/root", ".kube", "config");
}

export function readPid(name: string): number | null {
  try {
    const n = Number(readFileSync(join(PATHS.pids, `${name}.pid`), "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}
