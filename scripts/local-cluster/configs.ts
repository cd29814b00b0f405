// The configuration files of every component, written into the state directory on `up`.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pki } from "./pki";
import { NETWORK, NODE_NAME, PATHS, PORTS, CLUSTER_NAME } from "../lib/local-cluster";
import { PAUSE_IMAGE } from "./versions";

function write(path: string, text: string) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

export const kubeconfigPath = (who: string) => join(PATHS.kubeconfigs, `${who}.yaml`);
export const configPath = (name: string) => join(PATHS.config, name);

/** A kubeconfig for one component, pointing at files in the pki directory. */
function kubeconfig(who: string, server: string, cert: string) {
  return `apiVersion: v1
kind: Config
clusters:
  - name: ${CLUSTER_NAME}
    cluster:
      server: ${server}
      certificate-authority: ${pki.crt("ca")}
users:
  - name: ${who}
    user:
      client-certificate: ${pki.crt(cert)}
      client-key: ${pki.key(cert)}
contexts:
  - name: ${who}
    context: { cluster: ${CLUSTER_NAME}, user: ${who} }
current-context: ${who}
`;
}

export function writeConfigs(nodeIp: string) {
  const server = `https://${nodeIp}:${PORTS.apiserver}`;
  for (const [who, cert] of [
    ["admin", "admin"],
    ["controller-manager", "controller-manager"],
    ["scheduler", "scheduler"],
    ["kubelet", "kubelet-client"],
    ["kube-proxy", "kube-proxy"],
    ["kube-router", "kube-router"],
    ["traefik", "traefik"],
  ] as const) {
    write(kubeconfigPath(who), kubeconfig(who, server, cert));
  }

  // cgroup v1 on this kind of VM (no systemd, so the cgroupfs driver). Kubelets from 1.35 on
  // refuse cgroup v1 unless failCgroupV1 is false; 1.34 warns, and the setting says why.
  write(
    configPath("kubelet.yaml"),
    `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 0.0.0.0
port: ${PORTS.kubelet}
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://${PATHS.containerdSocket}
clusterDNS: ["${NETWORK.dnsServiceIp}"]
clusterDomain: ${NETWORK.clusterDomain}
resolvConf: ${configPath("resolv.conf")}
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: ${pki.crt("ca")} }
authorization:
  mode: Webhook
tlsCertFile: ${pki.crt("kubelet-serving")}
tlsPrivateKeyFile: ${pki.key("kubelet-serving")}
rotateCertificates: false
failSwapOn: false
podCIDR: ${NETWORK.nodePodCidr}
maxPods: 110
podLogsDir: ${PATHS.podLogs}
serializeImagePulls: false
# The default 10 s makes a readiness change take up to 10 s to reach the API; lessons watch it.
nodeStatusUpdateFrequency: 4s
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
evictionHard:
  memory.available: "200Mi"
  nodefs.available: "2%"
  imagefs.available: "2%"
`,
  );

  write(
    configPath("kube-proxy.yaml"),
    `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: ${kubeconfigPath("kube-proxy")}
hostnameOverride: ${NODE_NAME}
mode: iptables
clusterCIDR: ${NETWORK.podCidr}
# The default -999 cannot be set here (no CAP_SYS_RESOURCE; see containerd.toml).
oomScoreAdj: 0
# 0: leave the machine's conntrack table size alone.
conntrack:
  maxPerCore: 0
  min: 0
`,
  );

  // The cluster is offline: CoreDNS answers cluster names only, so pods inherit no upstream
  // resolver from the host (whose resolver is not ours to send queries to).
  write(configPath("resolv.conf"), `# bun-k8s local cluster: no upstream resolver (offline)\nsearch ${NETWORK.clusterDomain}\n`);

  write(
    configPath("containerd.toml"),
    `version = 2
root = "${PATHS.containerdRoot}"
state = "${PATHS.containerdState}"
[grpc]
  address = "${PATHS.containerdSocket}"
# This VM gives root no CAP_SYS_RESOURCE, so no process may lower its oom_score_adj below 0:
# the -998 containerd gives sandboxes (and the -997 of Guaranteed pods) fails in runc with
# "failed to update /proc/self/oom_score_adj: Permission denied". Clamp them to containerd's own.
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  enable_unprivileged_ports = true
  enable_unprivileged_icmp = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${PATHS.cniBin}"
    conf_dir = "${PATHS.cniConf}"
`,
  );

  // One bridge, host-local addresses from the node's pod range, portmap for hostPorts.
  // NetworkPolicy is enforced beside it by kube-router (iptables + ipset).
  write(
    join(PATHS.cniConf, "10-bun-k8s.conflist"),
    JSON.stringify(
      {
        cniVersion: "1.0.0",
        name: "bun-k8s",
        plugins: [
          {
            type: "bridge",
            bridge: NETWORK.bridge,
            isGateway: true,
            ipMasq: true,
            hairpinMode: true,
            ipam: { type: "host-local", ranges: [[{ subnet: NETWORK.nodePodCidr }]], routes: [{ dst: "0.0.0.0/0" }] },
          },
          { type: "portmap", capabilities: { portMappings: true } },
        ],
      },
      null,
      2,
    ) + "\n",
  );
}
