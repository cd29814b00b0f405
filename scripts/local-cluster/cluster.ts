#!/usr/bin/env bun
// A real single-node Kubernetes on this machine, built from source (scripts/local-cluster/build):
//
//   bun run cluster:up      build (cached), start, install the add-ons, deploy the kind overlay
//                           with `task deploy OVERLAY=kind`, select the kube context
//   bun run cluster:down    stop everything and remove its state (the build cache stays)
//   bun run scripts/local-cluster/cluster.ts status
//
// Host processes in the manner of Kubernetes' hack/local-up-cluster.sh: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, a kubelet on its own containerd (Debian's, with runc),
// kube-proxy (iptables), kube-router enforcing NetworkPolicy and Traefik as the ingress controller
// (http://127.0.0.1:8081); CoreDNS, metrics-server and the local-path provisioner run as pods.
// Linux and root only.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildBinaries, buildImages, importImages } from "./build";
import { configPath, kubeconfigPath, writeConfigs } from "./configs";
import { enableForwarding, podPids, routeLoadBalancerAddresses, removeIpsets, removeIptables, removeLinksAndNamespaces, removePodCgroups } from "./network";
import { ensurePki, pki } from "./pki";
import { logTail, running, startDaemon, stopDaemon, stopPid, until } from "./processes";
import { BUSYBOX_IMAGE, COREDNS_IMAGE, LOCAL_PATH_PROVISIONER_IMAGE } from "./versions";
import { CONTEXT, CLUSTER_NAME, NETWORK, NODE_NAME, PATHS, PORTS, RUN_DIR, STATE_DIR, nodeIp, userKubeconfig } from "../lib/local-cluster";

const ROOT = resolve(import.meta.dir, "../..");
const DAEMONS = ["containerd", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kube-router", "traefik"];
const ADDONS = join(import.meta.dir, "addons");

const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
const step = (text: string) => console.error(`\n==> ${text} (${elapsed()})`);

function run(argv: string[], options: { allowFail?: boolean; stdin?: string; env?: Record<string, string> } = {}) {
  const r = Bun.spawnSync(argv, {
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...options.env },
  });
  const out = { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  if (out.code !== 0 && !options.allowFail) throw new Error(`${argv.join(" ")} failed (exit ${out.code}): ${out.stderr.trim() || out.stdout.trim()}`);
  return out;
}

/** kubectl as the cluster admin, whatever the user's kubeconfig says. */
const admin = (args: string[], options: { allowFail?: boolean; stdin?: string } = {}) =>
  run(["kubectl", "--kubeconfig", kubeconfigPath("admin"), ...args], options);

function substitute(text: string, values: Record<string, string>) {
  return text.replace(/\$\{([A-Z_]+)\}/g, (whole, key: string) => {
    if (!(key in values)) throw new Error(`addon manifest: no value for ${whole}`);
    return values[key]!;
  });
}

function applyAddon(file: string) {
  const values = {
    COREDNS_IMAGE,
    LOCAL_PATH_IMAGE: LOCAL_PATH_PROVISIONER_IMAGE,
    BUSYBOX_IMAGE,
    DNS_SERVICE_IP: NETWORK.dnsServiceIp,
    CLUSTER_DOMAIN: NETWORK.clusterDomain,
    VOLUME_DIR: PATHS.localVolumes,
  };
  admin(["apply", "--server-side", "--force-conflicts", "-f", "-"], { stdin: substitute(readFileSync(join(ADDONS, file), "utf8"), values) });
}

export function missingPrerequisites(): string[] {
  const problems: string[] = [];
  if (process.platform !== "linux") problems.push("the local cluster runs on Linux only");
  if (process.getuid?.() !== 0) problems.push("the local cluster needs root (it runs a kubelet and changes iptables)");
  const tools: Record<string, string> = {
    containerd: "containerd", ctr: "containerd", runc: "runc", iptables: "iptables", ipset: "ipset",
    conntrack: "conntrack", openssl: "openssl", kubectl: "kubectl", go: "Go 1.26 (/usr/local/go/bin on PATH)",
    buildah: "buildah", podman: "podman",
  };
  for (const [tool, pkg] of Object.entries(tools)) if (!Bun.which(tool)) problems.push(`${tool} not found (install ${pkg})`);
  if (!existsSync(join(PATHS.cniBin, "bridge"))) problems.push(`CNI plugins missing in ${PATHS.cniBin} (apt-get install containernetworking-plugins)`);
  if (!existsSync("/sys/fs/cgroup/memory") && !existsSync("/sys/fs/cgroup/cgroup.controllers")) problems.push("no memory cgroup controller");
  return problems;
}

async function httpOk(url: string, tls = false): Promise<boolean> {
  if (!tls) return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
  const r = run(["curl", "-fsS", "--max-time", "2", "--cacert", pki.crt("ca"), "--cert", pki.crt("admin"), "--key", pki.key("admin"), url], { allowFail: true });
  return r.code === 0;
}

async function up() {
  const problems = missingPrerequisites();
  if (problems.length) throw new Error(`cannot start the local cluster:\n  - ${problems.join("\n  - ")}`);
  // A machine restart (or CI ending the session's processes) leaves mounts, iptables rules and
  // cgroups without their daemons: clear them before starting afresh.
  if ((existsSync(STATE_DIR) || existsSync(RUN_DIR)) && !running("kube-apiserver")) {
    step("state of an earlier cluster without its processes: removing it first");
    await down();
  }

  step("build binaries and images (cached)");
  const bin = await buildBinaries();
  const images = await buildImages();

  const ip = nodeIp();
  step(`configure node ${NODE_NAME} at ${ip}`);
  for (const dir of [STATE_DIR, RUN_DIR, PATHS.logs, PATHS.localVolumes, PATHS.kubeletRoot, PATHS.podLogs]) mkdirSync(dir, { recursive: true });
  ensurePki(ip);
  writeConfigs(ip);
  enableForwarding();
  // Mount propagation for the kubelet's volumes (containerd and the kubelet expect a shared root).
  run(["mount", "--make-rshared", "/"], { allowFail: true });

  step("containerd");
  startDaemon("containerd", ["containerd", "--config", configPath("containerd.toml")]);
  await until("containerd's socket", () => run(["ctr", "--address", PATHS.containerdSocket, "version"], { allowFail: true }).code === 0, 30_000, "containerd");
  await importImages(images, PATHS.containerdSocket);

  step("etcd");
  startDaemon("etcd", [
    bin.etcd, "--name", NODE_NAME, "--data-dir", PATHS.etcdData,
    "--listen-client-urls", `http://127.0.0.1:${PORTS.etcdClient}`, "--advertise-client-urls", `http://127.0.0.1:${PORTS.etcdClient}`,
    "--listen-peer-urls", `http://127.0.0.1:${PORTS.etcdPeer}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${PORTS.etcdPeer}`,
    "--initial-cluster", `${NODE_NAME}=http://127.0.0.1:${PORTS.etcdPeer}`,
    // A throwaway cluster: no fsync per write (it is the slowest part on a shared VM disk).
    "--unsafe-no-fsync", "--quota-backend-bytes", String(2 * 1024 ** 3), "--log-level", "warn",
  ]);
  await until("etcd health", () => httpOk(`http://127.0.0.1:${PORTS.etcdClient}/health`), 30_000, "etcd");

  step("kube-apiserver");
  startDaemon("kube-apiserver", [
    bin["kube-apiserver"],
    `--advertise-address=${ip}`, "--bind-address=0.0.0.0", `--secure-port=${PORTS.apiserver}`,
    `--etcd-servers=http://127.0.0.1:${PORTS.etcdClient}`,
    `--service-cluster-ip-range=${NETWORK.serviceCidr}`,
    `--client-ca-file=${pki.crt("ca")}`,
    `--tls-cert-file=${pki.crt("apiserver")}`, `--tls-private-key-file=${pki.key("apiserver")}`,
    `--kubelet-client-certificate=${pki.crt("apiserver-kubelet-client")}`, `--kubelet-client-key=${pki.key("apiserver-kubelet-client")}`,
    `--kubelet-certificate-authority=${pki.crt("ca")}`, "--kubelet-preferred-address-types=InternalIP",
    `--service-account-issuer=https://kubernetes.default.svc.${NETWORK.clusterDomain}`,
    `--service-account-key-file=${pki.saPub}`, `--service-account-signing-key-file=${pki.saKey}`,
    "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
    `--requestheader-client-ca-file=${pki.crt("front-proxy-ca")}`, "--requestheader-allowed-names=front-proxy-client",
    "--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
    "--requestheader-extra-headers-prefix=X-Remote-Extra-",
    `--proxy-client-cert-file=${pki.crt("front-proxy-client")}`, `--proxy-client-key-file=${pki.key("front-proxy-client")}`,
    "--enable-aggregator-routing=true", "--allow-privileged=true", "--profiling=false", "--v=1",
  ]);
  await until("the API server's /readyz", () => httpOk(`https://127.0.0.1:${PORTS.apiserver}/readyz`, true), 90_000, "kube-apiserver");

  step("kube-controller-manager, kube-scheduler");
  const cm = kubeconfigPath("controller-manager");
  startDaemon("kube-controller-manager", [
    bin["kube-controller-manager"],
    `--kubeconfig=${cm}`, `--authentication-kubeconfig=${cm}`, `--authorization-kubeconfig=${cm}`, "--bind-address=127.0.0.1",
    "--allocate-node-cidrs=true", `--cluster-cidr=${NETWORK.podCidr}`, "--node-cidr-mask-size=24",
    `--service-cluster-ip-range=${NETWORK.serviceCidr}`,
    `--cluster-signing-cert-file=${pki.crt("ca")}`, `--cluster-signing-key-file=${pki.key("ca")}`,
    `--root-ca-file=${pki.crt("ca")}`, `--service-account-private-key-file=${pki.saKey}`,
    "--use-service-account-credentials=true", "--leader-elect=false", "--controllers=*,bootstrapsigner,tokencleaner", "--v=1",
  ]);
  const sched = kubeconfigPath("scheduler");
  startDaemon("kube-scheduler", [
    bin["kube-scheduler"],
    `--kubeconfig=${sched}`, `--authentication-kubeconfig=${sched}`, `--authorization-kubeconfig=${sched}`,
    "--bind-address=127.0.0.1", "--leader-elect=false", "--v=1",
  ]);

  applyAddon("kube-router-rbac.yaml");

  step("kubelet, kube-proxy");
  startDaemon("kubelet", [
    bin.kubelet,
    `--config=${configPath("kubelet.yaml")}`, `--kubeconfig=${kubeconfigPath("kubelet")}`,
    `--hostname-override=${NODE_NAME}`, `--node-ip=${ip}`, `--root-dir=${PATHS.kubeletRoot}`,
    "--v=1",
  ]);
  startDaemon("kube-proxy", [bin["kube-proxy"], `--config=${configPath("kube-proxy.yaml")}`, "--v=1"]);
  await until(
    `node ${NODE_NAME} Ready`,
    () => admin(["get", "node", NODE_NAME, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"], { allowFail: true }).stdout === "True",
    120_000,
    "kubelet",
  );

  // kube-router looks its node up once at start and exits when it is not registered yet.
  // Its load-balancer allocator is what a cloud provider does for type LoadBalancer: it writes an
  // address from the range into the Service's status (kube-proxy then routes it). The allocator
  // takes a Lease named after its "pod", which a host process names through the environment.
  step("kube-router (NetworkPolicy, LoadBalancer addresses)");
  startDaemon(
    "kube-router",
    [
      bin["kube-router"], `--kubeconfig=${kubeconfigPath("kube-router")}`, `--hostname-override=${NODE_NAME}`,
      "--run-firewall=true", "--run-router=false", "--run-service-proxy=false", "--enable-cni=false",
      "--run-loadbalancer=true", `--loadbalancer-ip-range=${NETWORK.loadBalancerCidr}`,
      `--service-cluster-ip-range=${NETWORK.serviceCidr}`, "--metrics-port=0", "--v=1",
    ],
    { POD_NAME: `kube-router-${NODE_NAME}`, POD_NAMESPACE: "kube-system" },
  );
  await until("kube-router's /healthz", () => httpOk("http://127.0.0.1:20244/healthz"), 60_000, "kube-router");

  step(`Traefik (ingress controller, IngressClass traefik) on ${INGRESS_URL}`);
  await startIngressController(bin.traefik);

  step("add-ons: CoreDNS, local-path provisioner, metrics-server");
  applyAddon("coredns.yaml");
  applyAddon("local-path.yaml");
  admin(["apply", "-k", join(ROOT, "kustomize/metrics-server")]);
  for (const [ns, name] of [["kube-system", "coredns"], ["local-path-storage", "local-path-provisioner"], ["kube-system", "metrics-server"]] as const) {
    const r = admin(["-n", ns, "rollout", "status", `deployment/${name}`, "--timeout=180s"], { allowFail: true });
    if (r.code !== 0) {
      const pods = admin(["-n", ns, "get", "pods", "-o", "wide"], { allowFail: true }).stdout;
      const events = admin(["-n", ns, "get", "events", "--sort-by=.lastTimestamp"], { allowFail: true }).stdout.split("\n").slice(-15).join("\n");
      throw new Error(`${ns}/${name} did not become ready:\n${r.stderr}\n${pods}\n${events}\nkubelet:\n${logTail("kubelet")}`);
    }
  }

  step(`route LoadBalancer addresses (${NETWORK.loadBalancerCidr}) to the pod bridge`);
  routeLoadBalancerAddresses();

  step(`kube context ${CONTEXT} in ${userKubeconfig()}`);
  selectContext(ip);

  step("deploy the kind overlay: task deploy OVERLAY=kind");
  const task = Bun.which("task") ?? Bun.which("task", { PATH: `${process.env.HOME ?? "/root"}/go/bin` });
  if (!task) throw new Error("go-task (`task`) is not installed: go install github.com/go-task/task/v3/cmd/task@v3.54.0");
  const deploy = Bun.spawnSync([task, "deploy", "OVERLAY=kind"], { cwd: ROOT, stdout: "inherit", stderr: "inherit", env: { ...process.env, KUBE_CONTEXT: CONTEXT } });
  if (deploy.exitCode !== 0) throw new Error(`task deploy OVERLAY=kind failed (exit ${deploy.exitCode})`);

  // A new pod's address reaches kube-router's ipsets a moment after the pod starts; until then
  // the NetworkPolicy in front of Redis drops the app's connections and it answers 503.
  const appUrl = "http://127.0.0.1:30080";
  const t = performance.now();
  await until(`${appUrl}/visits/count answering 200 (the app reaching Redis through the NetworkPolicy)`, () => httpOk(`${appUrl}/visits/count`), 120_000, "kube-router");
  console.error(`app reaches Redis: ${((performance.now() - t) / 1000).toFixed(1)} s after the rollout`);

  const dead = DAEMONS.filter((name) => !running(name));
  if (dead.length) throw new Error(`exited after start: ${dead.join(", ")}\n${dead.map((d) => `${d}:\n${logTail(d)}`).join("\n")}`);
  console.log(`\nlocal cluster up in ${elapsed()}: context ${CONTEXT}, node ${NODE_NAME} (${ip}), app on ${appUrl}/`);
}

export const INGRESS_URL = `http://127.0.0.1:${PORTS.ingressHttp}`;

/**
 * Traefik on the host with its Kubernetes Ingress provider: it reads Ingresses of the class
 * traefik and proxies to the Services' endpoints (pod addresses, which the node reaches over
 * the bridge). Its entry point listens on loopback only: nothing off this machine reaches it.
 */
export async function startIngressController(traefik: string) {
  applyAddon("traefik.yaml");
  startDaemon("traefik", [
    traefik,
    `--entryPoints.web.address=127.0.0.1:${PORTS.ingressHttp}`,
    "--providers.kubernetesIngress=true",
    "--providers.kubernetesIngress.ingressClass=traefik",
    // The address `kubectl get ingress` shows (Traefik writes it into each Ingress's status).
    "--providers.kubernetesIngress.ingressEndpoint.ip=127.0.0.1",
    // Offline: no update check, no usage report.
    "--global.checkNewVersion=false", "--global.sendAnonymousUsage=false",
    "--log.level=INFO", "--log.noColor=true",
    // One line per request in logs/traefik.log, ending with the pod address it went to.
    "--accessLog=true",
  ], { KUBECONFIG: kubeconfigPath("traefik") });
  // Any answer will do: with no Ingress yet, Traefik answers 404 itself.
  await until(`Traefik answering on ${INGRESS_URL}`, async () => (await fetch(INGRESS_URL, { signal: AbortSignal.timeout(2000) })).status > 0, 60_000, "traefik");
}

function selectContext(ip: string) {
  const kc = userKubeconfig();
  mkdirSync(resolve(kc, ".."), { recursive: true });
  const k = (args: string[]) => run(["kubectl", "--kubeconfig", kc, "config", ...args]);
  k(["set-cluster", CLUSTER_NAME, `--server=https://${ip}:${PORTS.apiserver}`, `--certificate-authority=${pki.crt("ca")}`, "--embed-certs=true"]);
  k(["set-credentials", `${CLUSTER_NAME}-admin`, `--client-certificate=${pki.crt("admin")}`, `--client-key=${pki.key("admin")}`, "--embed-certs=true"]);
  k(["set-context", CONTEXT, `--cluster=${CLUSTER_NAME}`, `--user=${CLUSTER_NAME}-admin`]);
  k(["use-context", CONTEXT]);
}

function forgetContext() {
  const kc = userKubeconfig();
  if (!existsSync(kc)) return;
  const k = (args: string[]) => run(["kubectl", "--kubeconfig", kc, "config", ...args], { allowFail: true });
  if (k(["current-context"]).stdout.trim() === CONTEXT) k(["unset", "current-context"]);
  k(["delete-context", CONTEXT]);
  k(["delete-cluster", CLUSTER_NAME]);
  k(["delete-user", `${CLUSTER_NAME}-admin`]);
}

function unmountUnder(...prefixes: string[]) {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m): m is string => !!m && prefixes.some((p) => m === p || m.startsWith(`${p}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) run(["umount", "-l", m], { allowFail: true });
}

async function down() {
  step("stop the node: traefik, kube-router, kube-proxy, kubelet");
  await stopDaemon("traefik");
  await stopDaemon("kube-router");
  await stopDaemon("kube-proxy");
  await stopDaemon("kubelet");

  step("stop every pod");
  for (let round = 0; round < 5; round++) {
    const pids = podPids();
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    await Bun.sleep(300);
  }
  await stopDaemon("containerd");
  // Shims outlive containerd by design; ours are the ones started with our socket.
  const shims = run(["pgrep", "-f", `containerd-shim.*-address ${PATHS.containerdSocket}`], { allowFail: true }).stdout.split("\n").filter(Boolean).map(Number);
  for (const pid of shims) await stopPid(pid, 2000);

  step("stop the control plane");
  await stopDaemon("kube-scheduler");
  await stopDaemon("kube-controller-manager");
  await stopDaemon("kube-apiserver");
  await stopDaemon("etcd");

  step("remove mounts, network, cgroups, state");
  unmountUnder(STATE_DIR, RUN_DIR);
  removeLinksAndNamespaces();
  removeIptables();
  removeIpsets();
  removePodCgroups();
  rmSync(RUN_DIR, { recursive: true, force: true });
  rmSync(STATE_DIR, { recursive: true, force: true });
  forgetContext();
  console.log(`\nlocal cluster removed (${elapsed()}); the build cache stays`);
}

function status(): number {
  let up = 0;
  const names = existsSync(PATHS.pids) ? readdirSync(PATHS.pids).map((f) => f.replace(/\.pid$/, "")) : [];
  for (const name of DAEMONS) {
    const pid = running(name);
    if (pid) up++;
    console.log(`${name.padEnd(24)} ${pid ? `running (pid ${pid})` : names.includes(name) ? "exited" : "not started"}`);
  }
  return up;
}

if (import.meta.main) {
  const command = process.argv[2] ?? "help";
  try {
    if (command === "up") await up();
    else if (command === "down") await down();
    else if (command === "status") process.exit(status() > 0 ? 0 : 1);
    else {
      console.log("usage: bun run scripts/local-cluster/cluster.ts up|down|status");
      process.exit(command === "help" ? 0 : 2);
    }
  } catch (err) {
    console.error(`\ncluster ${command} failed after ${elapsed()}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
