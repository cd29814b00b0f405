// Host networking the cluster needs, and the cleanup that undoes it: forwarding and bridge
// netfilter on, then on `down` every iptables chain, ipset, bridge and network namespace that
// kube-proxy, kube-router and the CNI plugins created.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { NETWORK } from "../lib/local-cluster";

function sh(argv: string[]) {
  return Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
}

export function enableForwarding() {
  Bun.spawnSync(["modprobe", "br_netfilter"], { stdout: "ignore", stderr: "ignore" });
  for (const [key, value] of [
    ["net/ipv4/ip_forward", "1"],
    ["net/bridge/bridge-nf-call-iptables", "1"],
    ["net/bridge/bridge-nf-call-ip6tables", "1"],
  ] as const) {
    try {
      writeFileSync(`/proc/sys/${key}`, value);
    } catch (err) {
      // bridge-nf-call-* appear only once the bridge code is loaded; the CNI plugin loads it.
      if (key === "net/ipv4/ip_forward") throw err;
    }
  }
}

/**
 * LoadBalancer addresses exist only in kube-proxy's rules; a route makes the host send them
 * somewhere those rules see them, whatever its default route is. Removed with the bridge.
 */
export function routeLoadBalancerAddresses() {
  const r = sh(["ip", "route", "replace", NETWORK.loadBalancerCidr, "dev", NETWORK.bridge]);
  if (r.exitCode !== 0) throw new Error(`ip route replace ${NETWORK.loadBalancerCidr} dev ${NETWORK.bridge}: ${r.stderr.toString().trim()}`);
}

const OURS = /^(KUBE-|CNI-|KUBE-ROUTER-|KUBE-NWPLCY-|KUBE-POD-FW-|KUBE-SRC-|KUBE-DST-)/;

/** Removes every rule that jumps to one of our chains, then the chains, in each table. */
export function removeIptables() {
  for (const table of ["nat", "filter", "mangle", "raw"]) {
    const save = sh(["iptables-save", "-t", table]);
    if (save.exitCode !== 0) continue;
    const lines = save.stdout.toString().split("\n");
    const chains = lines.filter((l) => l.startsWith(":")).map((l) => l.slice(1).split(" ")[0]!);
    const ours = chains.filter((c) => OURS.test(c));
    // Rules in built-in chains that reference ours.
    for (const line of lines) {
      const m = /^-A (\S+) (.*)$/.exec(line);
      if (!m || OURS.test(m[1]!)) continue;
      if (ours.some((c) => line.includes(`-j ${c}`) || line.includes(`-g ${c}`))) {
        sh(["iptables", "-t", table, "-D", m[1]!, ...splitRule(m[2]!)]);
      }
    }
    for (const c of ours) sh(["iptables", "-t", table, "-F", c]);
    for (const c of ours) sh(["iptables", "-t", table, "-X", c]);
  }
}

/** iptables-save quotes comments; split a rule back into argv. */
function splitRule(rule: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(rule); m; m = re.exec(rule)) out.push(m[1] !== undefined ? m[1].replace(/\\"/g, '"') : m[2]!);
  return out;
}

export function removeIpsets() {
  const list = sh(["ipset", "list", "-n"]);
  if (list.exitCode !== 0) return;
  for (const name of list.stdout.toString().split("\n").filter((n) => /^(KUBE-|kube-router)/i.test(n))) {
    sh(["ipset", "destroy", name]);
  }
}

export function removeLinksAndNamespaces() {
  const netns = sh(["ip", "netns", "list"]);
  for (const line of netns.stdout.toString().split("\n")) {
    const name = line.split(" ")[0];
    if (name?.startsWith("cni-")) sh(["ip", "netns", "delete", name]);
  }
  sh(["ip", "link", "delete", NETWORK.bridge]);
  sh(["ip", "link", "delete", "kube-ipvs0"]);
}

/** Every pid in the kubelet's cgroups (pods and their containers), in every v1 hierarchy. */
export function podPids(): number[] {
  const pids = new Set<number>();
  const walk = (dir: string) => {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    try {
      for (const p of readFileSync(`${dir}/cgroup.procs`, "utf8").split("\n")) if (p) pids.add(Number(p));
    } catch {}
    for (const e of entries) if (!e.includes(".")) walk(`${dir}/${e}`);
  };
  for (const controller of ["pids", "memory", "cpu", "freezer"]) walk(`/sys/fs/cgroup/${controller}/kubepods`);
  return [...pids];
}

/** Removes the kubelet's cgroup trees, deepest first. */
export function removePodCgroups() {
  const remove = (dir: string) => {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return;
    }
    for (const e of entries) remove(`${dir}/${e}`);
    sh(["rmdir", dir]);
  };
  for (const controller of readdirSync("/sys/fs/cgroup")) remove(`/sys/fs/cgroup/${controller}/kubepods`);
}
