// The app image for a local cluster: built with Docker when its daemon answers, else with rootful
// podman; tagged twice, `bun-k8s:<tag>` (what the overlay names) and `bun-k8s:<tag>-<id>` (what
// `task deploy` rolls out), so every build is its own revision and `task rollback` really returns
// to the previous code; then handed to the cluster's nodes.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProjectImage } from "./podman";
import { PATHS as LOCAL_CLUSTER } from "./local-cluster";
import { dockerDaemonMessage } from "./prereqs";
import { ROOT } from "./cluster-settings";
import { gitRevision } from "./repo";

export const IMAGE_STATE = join(ROOT, ".artifacts", "image");
const LAST_BUILD = join(IMAGE_STATE, "last-build.json");

export interface BuiltImage {
  /** What the overlay names, e.g. bun-k8s:dev. */
  ref: string;
  /** ref plus the first 12 hex digits of the image id: unique per content. */
  uniqueRef: string;
  id: string;
  builder: "docker" | "podman";
  /** docker-archive of both refs (podman builds only). */
  archive?: string;
}

function capture(argv: string[]) {
  const r = Bun.spawnSync(argv, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
}

const shortId = (id: string) => id.replace(/^sha256:/, "").slice(0, 12);

/** Which builder this machine has: Docker (daemon up), else podman as root, else null with why. */
export function imageBuilder(): { builder: "docker" | "podman" } | { builder: null; why: string } {
  if (Bun.which("docker") && dockerDaemonMessage() === null) return { builder: "docker" };
  if (Bun.which("podman") && process.getuid?.() === 0) return { builder: "podman" };
  return { builder: null, why: "building the image needs Docker (with its daemon) or podman (as root): neither is available" };
}

/** `bun-k8s:dev` -> `docker.io/library/bun-k8s:dev`: how the kubelet and containerd name it
 * (podman would otherwise store it as localhost/bun-k8s:dev, which no pod spec asks for). */
export function qualifiedRef(ref: string): string {
  const first = ref.split("/")[0]!;
  const hasRegistry = ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasRegistry) return ref;
  return ref.includes("/") ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

export async function buildAppImage(ref: string): Promise<BuiltImage> {
  const which = imageBuilder();
  if (which.builder === null) throw new Error(which.why);
  const version = packageVersion();
  const revision = gitRevision();
  let built: BuiltImage;
  if (which.builder === "docker") {
    // --provenance=false: BuildKit's attestations would give every build a new id (and image)
    // in Docker's containerd image store even when nothing changed.
    const buildx = capture(["docker", "buildx", "version"]).code === 0;
    const argv = ["docker", "build", ...(buildx ? ["--provenance=false"] : []), "-t", ref, "--build-arg", `VERSION=${version}`, "--build-arg", `REVISION=${revision}`, "."];
    console.error(`$ ${argv.join(" ")}`);
    const proc = Bun.spawnSync(argv, { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
    if (proc.exitCode !== 0) throw new Error(`docker build exited with code ${proc.exitCode}`);
    const id = capture(["docker", "image", "inspect", "--format", "{{.Id}}", ref]).stdout.trim();
    const uniqueRef = `${ref}-${shortId(id)}`;
    capture(["docker", "tag", ref, uniqueRef]);
    built = { ref, uniqueRef, id, builder: "docker" };
  } else {
    console.error(`podman build (no Docker daemon here) -> ${ref}`);
    // Shared by every checkout on the machine (CI clones afresh): the base images and layers stay.
    const storage = join(process.env.BUN_K8S_CLUSTER_CACHE ?? "/var/cache/bun-k8s-cluster", "podman");
    const b = await buildProjectImage({ storage, ref: qualifiedRef(ref), version, revision });
    built = { ref, uniqueRef: `${ref}-${shortId(b.id)}`, id: b.id, builder: "podman", archive: b.archive };
  }
  mkdirSync(IMAGE_STATE, { recursive: true });
  writeFileSync(LAST_BUILD, JSON.stringify(built, null, 2) + "\n");
  console.error(`image ${built.uniqueRef} (id ${shortId(built.id)})`);
  return built;
}

/** The last image `buildAppImage` made for `ref`, for --skip-build. */
export function lastBuild(ref: string): BuiltImage | null {
  if (!existsSync(LAST_BUILD)) return null;
  const b = JSON.parse(readFileSync(LAST_BUILD, "utf8")) as BuiltImage;
  return b.ref === ref ? b : null;
}

/** Imports a podman-built archive into the local cluster's containerd (what `kind load` does for kind). */
export function importIntoLocalCluster(image: BuiltImage) {
  let archive = image.archive;
  if (!archive) {
    archive = join(IMAGE_STATE, "docker-save.tar");
    const save = capture(["docker", "save", "-o", archive, image.ref, image.uniqueRef]);
    if (save.code !== 0) throw new Error(`docker save failed: ${save.stderr.trim()}`);
  }
  const argv = ["ctr", "--address", LOCAL_CLUSTER.containerdSocket, "-n", "k8s.io", "images", "import", archive];
  console.error(`$ ${argv.join(" ")}`);
  const r = capture(argv);
  if (r.code !== 0) throw new Error(`ctr images import failed: ${r.stderr.trim() || r.stdout.trim()}`);
}

/**
 * A kustomization under .artifacts/ that applies `overlay` with the app image set to the unique
 * tag; `kubectl apply -k` of it changes the template (and so makes a revision) only when the
 * image content changed.
 */
export function pinnedOverlay(overlay: string, image: BuiltImage): string {
  const dir = join(ROOT, ".artifacts", "deploy", overlay.split("/").pop()!);
  mkdirSync(dir, { recursive: true });
  const [name, tag] = splitRef(image.uniqueRef);
  writeFileSync(
    join(dir, "kustomization.yaml"),
    [
      "# Written by `task deploy`: the overlay with the image of this build (never edit, never commit).",
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      "resources:",
      `  - ../../../${overlay}`,
      "images:",
      `  - name: ${name}`,
      `    newTag: "${tag}"`,
      "",
    ].join("\n"),
  );
  return dir;
}

function splitRef(ref: string): [string, string] {
  const i = ref.lastIndexOf(":");
  return [ref.slice(0, i), ref.slice(i + 1)];
}
