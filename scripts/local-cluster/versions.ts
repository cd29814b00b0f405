// Every version the local cluster is built from, in one place.
//
// The Go programs are built from source through the wrapper modules in build/go/<name>/; each
// wrapper's go.mod pins the same version as here, and the build checks that they agree, so a
// bump is: change the constant, `go get <module>@<version>` in the wrapper, `go mod tidy`
// (except kube-router: see its go.mod), commit both.
//
// Only versions the Go module proxy serves can be built; where the newest release is not
// served (kube-router, local-path-provisioner), the newest that is, with the known advisories
// recorded below.

/** Kubernetes: kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy. */
export const KUBERNETES_VERSION = "v1.34.4";

/**
 * etcd server (go.etcd.io/etcd/server/v3; its main package is the module root). 3.6 is what
 * Kubernetes 1.34 is tested against; v3.6.16 includes the fixes for GO-2026-5736 (RBAC
 * bypass, fixed 3.6.11) and GO-2026-6114 (watch authorization bypass, fixed 3.6.14).
 */
export const ETCD_VERSION = "v3.6.16";

/**
 * kube-router, run on the host for NetworkPolicy and LoadBalancer addresses (--run-firewall=true
 * --run-loadbalancer=true --run-router=false --run-service-proxy=false). v2.1.0 is the only v2
 * release the proxy serves. Its own advisories: GO-2026-4724 (service proxy trusts external/LB IPs, fixed 2.8.0) and GO-2026-5653
 * (GoBGP gRPC port exposed, fixed 2.9.0) concern the proxy and router controllers, which are
 * not run; GO-2026-5354 starts at 2.7.0. Vulnerable dependencies are raised in its go.mod.
 */
export const KUBE_ROUTER_VERSION = "v2.1.0";

/**
 * CoreDNS. v1.14.7 rather than the 1.12 line Kubernetes 1.34's kubeadm names: every CoreDNS
 * advisory in the Go vulnerability database up to GO-2026-6805 is fixed by 1.14.7, and 1.12.4
 * (the newest 1.12 the proxy serves) has eleven of them.
 */
export const COREDNS_VERSION = "v1.14.7";

/** metrics-server: the version kustomize/metrics-server/components.yaml names. */
export const METRICS_SERVER_VERSION = "v0.7.2";

/**
 * local-path-provisioner: v0.0.30 is the newest the proxy serves. Known advisories, both fixed
 * only in releases not served: GO-2026-4425 (path traversal through a StorageClass's
 * parameters.pathPattern, fixed 0.0.34) and GO-2026-5218 (helper pod template injection,
 * fixed 0.0.36). Both need write access to StorageClasses or to the provisioner's ConfigMap,
 * which only the cluster admin has here.
 */
export const LOCAL_PATH_PROVISIONER_VERSION = "v0.0.30";

/**
 * Traefik, run on the host as the cluster's ingress controller (Kubernetes Ingress provider,
 * IngressClass `traefik`). v3.7.13 is the newest the proxy serves. It was not checked with
 * govulncheck (neither it nor the vulnerability database is on this machine). Three changes
 * from upstream's build, each because the proxy does not serve a module (see its go.mod):
 * its nested module dynamic/ext comes from the wrapper, its fork of go-http-auth is the
 * 2020 commit Traefik pinned until 2026-08 (used by the basic and digest auth middlewares, which
 * this cluster does not configure), and the ACME DNS-01 providers below are left out.
 */
export const TRAEFIK_VERSION = "v3.7.13";

/**
 * lego's DNS-01 providers whose SDKs the module proxy does not serve (403 for every version):
 * removed from lego's provider registry for the build (build/go.ts, withoutDnsProviders).
 * The cluster is offline, so no ACME challenge could run anyway.
 */
export const TRAEFIK_UNSERVED_DNS_PROVIDERS = [
  "alidns", "aliesa", "azion", "dnsimple", "edgedns", "edgeone", "huaweicloud",
  "oraclecloud", "regfish", "sakuracloud", "tencentcloud", "ucloud", "yandexcloud",
] as const;

/** The pause program is our own (build/go/pause); the version is only the tag's. */
export const PAUSE_VERSION = "3.10";

/**
 * Debian packages (bookworm) for the images that are not Go programs. Debian replaces
 * superseded package versions in its archive, so these are not pinned to the revision: the
 * build takes apt's candidate, checks it starts with the prefix below, and keys its cache by
 * the exact versions.
 */
export const DEBIAN_PACKAGES = {
  /** The busybox helper image and the shell + grep in the Redis image. */
  busybox: { package: "busybox-static", versionPrefix: "1:1.35.0-" },
  /** The Redis image: redis-server and redis-cli. */
  redis: { package: "redis-server", versionPrefix: "5:7.0." },
} as const;

/**
 * The Go toolchain every program is built with. The build runs with GOTOOLCHAIN set to it, so
 * any go >= 1.21 on the host fetches this exact release from the module proxy (as the module
 * golang.org/toolchain, once, into the build's module cache): the binaries do not depend on
 * the host's go, and the standard library's security fixes come with a bump here. go1.26.11
 * fixes the net/http, crypto/tls and crypto/x509 advisories govulncheck reports for go1.26.8.
 * It must be >= every wrapper's go directive (etcd v3.6.16 needs go 1.26.0).
 */
export const GO_TOOLCHAIN = "go1.26.11";

// Image references, exactly as the manifests (and containerd's sandbox_image) name them.
// Every image is built here; nothing is pulled, and the names only have to match.

/** containerd's sandbox_image. */
export const PAUSE_IMAGE = `registry.k8s.io/pause:${PAUSE_VERSION}`;
export const COREDNS_IMAGE = `registry.k8s.io/coredns/coredns:${COREDNS_VERSION}`;
export const METRICS_SERVER_IMAGE = `registry.k8s.io/metrics-server/metrics-server:${METRICS_SERVER_VERSION}`;
export const LOCAL_PATH_PROVISIONER_IMAGE = `docker.io/rancher/local-path-provisioner:${LOCAL_PATH_PROVISIONER_VERSION}`;
/**
 * The helper image local-path-provisioner starts to create and remove volume directories
 * (needs sh, mkdir, rm, chmod): Debian's statically linked busybox 1.35.0, named after the
 * upstream busybox release it is.
 */
export const BUSYBOX_IMAGE = "docker.io/library/busybox:1.35.0";
/**
 * The name kustomize/base/redis-deployment.yaml uses. The content is NOT Redis 7.2 on Alpine:
 * it is Debian bookworm's redis-server and redis-cli (Redis 7.0.x, see DEBIAN_PACKAGES.redis)
 * with their shared libraries, plus busybox for the readiness probe's sh and grep, running as
 * redis (999:999) like the official image.
 */
export const REDIS_IMAGE = "docker.io/library/redis:7.2-alpine";
