// Importing the built images into containerd's k8s.io namespace (where the CRI plugin, hence
// the kubelet, sees them), with ctr.
import { record, run } from "./util";
import type { ImageArchive } from "./images";

export const K8S_NAMESPACE = "k8s.io";

export interface ImportOptions {
  /**
   * The snapshotter to unpack into: it must be the CRI plugin's (containerd's default is
   * overlayfs), or containers cannot be created from the image.
   */
  snapshotter?: string;
  /** The ctr binary (default: ctr on PATH). */
  ctr?: string;
}

/** ref -> manifest digest of every image in the namespace. */
export async function listImages(socket: string, ctr = "ctr"): Promise<Map<string, string>> {
  const out = (await run([ctr, "--address", socket, "-n", K8S_NAMESPACE, "images", "ls"])).stdout;
  const images = new Map<string, string>();
  for (const line of out.split("\n").slice(1)) {
    const [ref, , digest] = line.trim().split(/\s+/);
    if (ref && digest?.startsWith("sha256:")) images.set(ref, digest);
  }
  return images;
}

/**
 * Imports each archive unless its ref is already there with the same digest; checks
 * afterwards that every ref is present with the digest its archive names.
 */
export async function importImages(archives: ImageArchive[], containerdSocket: string, options: ImportOptions = {}): Promise<void> {
  const ctr = options.ctr ?? "ctr";
  const snapshotter = options.snapshotter ?? "overlayfs";
  const present = await listImages(containerdSocket, ctr);
  for (const a of archives) {
    if (present.get(a.ref) === a.digest) {
      record({ what: `${a.ref} in containerd`, action: "present", ms: 0 });
      continue;
    }
    const t0 = performance.now();
    await run([ctr, "--address", containerdSocket, "-n", K8S_NAMESPACE, "images", "import", "--snapshotter", snapshotter, a.archive]);
    record({ what: `${a.ref} into containerd`, action: "imported", ms: performance.now() - t0 });
  }
  const after = await listImages(containerdSocket, ctr);
  const wrong = archives.filter((a) => after.get(a.ref) !== a.digest);
  if (wrong.length) {
    throw new Error(
      `after import, containerd does not have: ${wrong.map((a) => `${a.ref}@${a.digest} (has ${after.get(a.ref) ?? "nothing"})`).join(", ")}\nits images: ${[...after.keys()].join(", ")}`,
    );
  }
}
