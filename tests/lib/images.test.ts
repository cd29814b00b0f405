// How `task deploy` names and pins the app image: kustomize itself renders the pinned overlay.
import { describe, expect, test } from "bun:test";
import { pinnedOverlay, qualifiedRef, type BuiltImage } from "../../scripts/lib/images";

const CI = process.env.CI === "true";
const hasKubectl = Bun.which("kubectl") !== null;
if (!hasKubectl && CI) throw new Error("CI=true but kubectl (with kustomize) is not installed");

describe("qualifiedRef", () => {
  test("short names get Docker Hub's library prefix, as the kubelet and containerd name them", () => {
    expect(qualifiedRef("bun-k8s:dev")).toBe("docker.io/library/bun-k8s:dev");
    expect(qualifiedRef("me/bun-k8s:1.0.0")).toBe("docker.io/me/bun-k8s:1.0.0");
    expect(qualifiedRef("ghcr.io/me/bun-k8s:1.0.0")).toBe("ghcr.io/me/bun-k8s:1.0.0");
    expect(qualifiedRef("localhost/bun-k8s:dev")).toBe("localhost/bun-k8s:dev");
    expect(qualifiedRef("registry:5000/bun-k8s:dev")).toBe("registry:5000/bun-k8s:dev");
  });
});

describe.skipIf(!hasKubectl)("pinnedOverlay (kubectl kustomize; skipped without kubectl)", () => {
  test("renders the overlay with the build's unique tag on the app container and nothing else changed", () => {
    const image: BuiltImage = { ref: "bun-k8s:dev", uniqueRef: "bun-k8s:dev-0123456789ab", id: "sha256:0123456789abcdef", builder: "podman" };
    const dir = pinnedOverlay("kustomize/overlays/kind", image);
    const pinned = Bun.spawnSync(["kubectl", "kustomize", dir], { stdout: "pipe", stderr: "pipe" });
    const plain = Bun.spawnSync(["kubectl", "kustomize", "kustomize/overlays/kind"], { stdout: "pipe", stderr: "pipe" });
    expect(pinned.exitCode).toBe(0);
    const text = pinned.stdout.toString();
    expect(text).toContain("image: bun-k8s:dev-0123456789ab");
    expect(text).not.toContain("image: bun-k8s:dev\n");
    expect(text.replace("bun-k8s:dev-0123456789ab", "bun-k8s:dev")).toBe(plain.stdout.toString());
  }, 30_000);
});
