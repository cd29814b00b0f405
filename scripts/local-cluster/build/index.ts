#!/usr/bin/env bun
// Builds, from source and pinned (../versions.ts), every binary and image the local cluster
// needs, caches them, and imports the images into containerd.
//
//   bun run scripts/local-cluster/build/index.ts [binaries|images|all]
//
// Binaries (host processes): kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
// kube-proxy, etcd, kube-router, traefik. Images (OCI archives): pause, CoreDNS, metrics-server,
// local-path-provisioner, busybox (its helper pods), Redis.
//
// Everything lives under CACHE_DIR ($BUN_K8S_CLUSTER_CACHE, default /var/cache/bun-k8s-cluster):
//   bin/            the binaries, each target with a stamp of its inputs (.<target>.stamp)
//   images/         <name>-<key>.oci.tar and .json (ref, digest, inputs)
//   go/mod, go/build  GOMODCACHE and GOCACHE of these builds (not the user's), so removing
//                   CACHE_DIR gives a cold build and keeping it makes rebuilds incremental
//   debs/           downloaded .deb files
//   tmp/            scratch space (buildah storage, root filesystems), removed after use
// Needs: go >= 1.21 (PATH or /usr/local/go/bin; it fetches GO_TOOLCHAIN), and for the images
// root, buildah, apt-get and dpkg-deb; only the Go module proxy and Debian's archive are contacted.
import { join } from "node:path";
import { importImages as importInto, type ImportOptions } from "./containerd";
import { buildGoTarget, TARGETS } from "./go";
import { buildImageArchives, type ImageArchive } from "./images";
import { seconds, steps } from "./util";

export type { ImageArchive } from "./images";
export type { ImportOptions } from "./containerd";
export * from "../versions";

export const CACHE_DIR = process.env.BUN_K8S_CLUSTER_CACHE ?? "/var/cache/bun-k8s-cluster";
export const BIN_DIR = join(CACHE_DIR, "bin");

export type BinaryName = "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kubelet" | "kube-proxy" | "etcd" | "kube-router" | "traefik";

/** Builds (or reuses) the host binaries; returns their absolute paths. */
export async function buildBinaries(): Promise<Record<BinaryName, string>> {
  const paths: Record<string, string> = {};
  for (const target of [TARGETS.kubernetes, TARGETS.etcd, TARGETS["kube-router"], TARGETS.traefik]) {
    Object.assign(paths, (await buildGoTarget(target, CACHE_DIR)).paths);
  }
  return paths as Record<BinaryName, string>;
}

/** Builds (or reuses) the image archives, building the Go binaries they contain first. */
export async function buildImages(): Promise<ImageArchive[]> {
  return buildImageArchives(CACHE_DIR);
}

/**
 * `ctr --address <socket> -n k8s.io images import` of each archive whose ref is not already
 * there with the same digest. options.snapshotter must be the CRI plugin's (default overlayfs).
 */
export async function importImages(archives: ImageArchive[], containerdSocket: string, options?: ImportOptions): Promise<void> {
  return importInto(archives, containerdSocket, options);
}

if (import.meta.main) {
  const what = process.argv[2] ?? "all";
  if (!["binaries", "images", "all"].includes(what)) {
    console.error("usage: bun run scripts/local-cluster/build/index.ts [binaries|images|all]");
    process.exit(2);
  }
  const t0 = performance.now();
  try {
    if (what !== "images") {
      const bins = await buildBinaries();
      for (const [name, path] of Object.entries(bins)) console.log(`${name}\t${path}`);
    }
    if (what !== "binaries") {
      for (const img of await buildImages()) console.log(`${img.ref}\t${img.archive}\t${img.digest}`);
    }
  } catch (err) {
    console.error(`\ncluster build FAILED: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
  console.error("\nsummary:");
  for (const s of steps) console.error(`  ${s.action.padEnd(8)} ${s.what}${s.action === "built" ? ` (${seconds(s.ms)})` : ""}`);
  console.error(`  total ${seconds(performance.now() - t0)} (cache ${CACHE_DIR})`);
}
