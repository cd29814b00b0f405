// The cluster's certificates, made with openssl: one CA for the API server and its clients, one
// for the aggregation layer's front proxy (metrics-server sits behind it), and the service-account
// signing key. Every identity is named the way the API server's default RBAC expects it.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NETWORK, NODE_NAME, PATHS } from "../lib/local-cluster";

export interface Identity {
  /** File stem: <name>.crt and <name>.key in the pki directory. */
  name: string;
  cn: string;
  org?: string;
  usage: "client" | "server" | "both";
  /** subjectAltName entries, e.g. "IP:127.0.0.1", "DNS:kubernetes". */
  sans?: string[];
  ca?: "ca" | "front-proxy-ca";
}

function openssl(args: string[]) {
  const r = Bun.spawnSync(["openssl", ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString().trim()}`);
}

const file = (name: string, ext: "crt" | "key" | "pub") => join(PATHS.pki, `${name}.${ext}`);

function ecKey(path: string) {
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path]);
}

function makeCa(name: string, cn: string) {
  if (existsSync(file(name, "crt"))) return;
  ecKey(file(name, "key"));
  openssl([
    "req", "-x509", "-new", "-key", file(name, "key"), "-subj", `/CN=${cn}`, "-days", "3650", "-out", file(name, "crt"),
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
  ]);
}

function makeCert(id: Identity) {
  if (existsSync(file(id.name, "crt"))) return;
  const ca = id.ca ?? "ca";
  ecKey(file(id.name, "key"));
  const csr = join(PATHS.pki, `${id.name}.csr`);
  const subject = `${id.org ? `/O=${id.org}` : ""}/CN=${id.cn}`;
  openssl(["req", "-new", "-key", file(id.name, "key"), "-subj", subject, "-out", csr]);
  const eku = id.usage === "client" ? "clientAuth" : id.usage === "server" ? "serverAuth" : "serverAuth,clientAuth";
  const ext = join(PATHS.pki, `${id.name}.ext`);
  writeFileSync(
    ext,
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      `extendedKeyUsage=${eku}`,
      ...(id.sans?.length ? [`subjectAltName=${id.sans.join(",")}`] : []),
    ].join("\n") + "\n",
  );
  openssl([
    "x509", "-req", "-in", csr, "-CA", file(ca, "crt"), "-CAkey", file(ca, "key"), "-CAcreateserial",
    "-days", "3650", "-extfile", ext, "-out", file(id.name, "crt"),
  ]);
}

export const IDENTITIES = (nodeIp: string): Identity[] => [
  {
    name: "apiserver",
    cn: "kube-apiserver",
    usage: "server",
    sans: [
      "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
      `DNS:kubernetes.default.svc.${NETWORK.clusterDomain}`, "DNS:localhost",
      "IP:127.0.0.1", `IP:${nodeIp}`, `IP:${NETWORK.apiServiceIp}`,
    ],
  },
  { name: "apiserver-kubelet-client", cn: "kube-apiserver-kubelet-client", org: "system:masters", usage: "client" },
  { name: "admin", cn: "kubernetes-admin", org: "system:masters", usage: "client" },
  { name: "controller-manager", cn: "system:kube-controller-manager", usage: "client" },
  { name: "scheduler", cn: "system:kube-scheduler", usage: "client" },
  { name: "kube-proxy", cn: "system:kube-proxy", usage: "client" },
  { name: "kube-router", cn: "system:kube-router", usage: "client" },
  { name: "traefik", cn: "system:traefik", usage: "client" },
  { name: "kubelet-client", cn: `system:node:${NODE_NAME}`, org: "system:nodes", usage: "client" },
  { name: "kubelet-serving", cn: `system:node:${NODE_NAME}`, org: "system:nodes", usage: "server", sans: [`DNS:${NODE_NAME}`, `IP:${nodeIp}`, "IP:127.0.0.1"] },
  { name: "front-proxy-client", cn: "front-proxy-client", usage: "client", ca: "front-proxy-ca" },
];

/** Creates whatever is missing; existing files are kept, so a restart keeps its identities
 * (unless the node's address changed: the serving certificates name it). */
export function ensurePki(nodeIp: string) {
  const stamp = join(PATHS.pki, "node-ip");
  if (existsSync(stamp) && readFileSync(stamp, "utf8").trim() !== nodeIp) rmSync(PATHS.pki, { recursive: true, force: true });
  mkdirSync(PATHS.pki, { recursive: true, mode: 0o700 });
  writeFileSync(stamp, `${nodeIp}\n`);
  makeCa("ca", "bun-k8s-local-ca");
  makeCa("front-proxy-ca", "bun-k8s-local-front-proxy-ca");
  if (!existsSync(file("sa", "key"))) {
    ecKey(file("sa", "key"));
    openssl(["pkey", "-in", file("sa", "key"), "-pubout", "-out", file("sa", "pub")]);
  }
  for (const id of IDENTITIES(nodeIp)) makeCert(id);
}

export const pki = {
  crt: (name: string) => file(name, "crt"),
  key: (name: string) => file(name, "key"),
  saKey: file("sa", "key"),
  saPub: file("sa", "pub"),
};
