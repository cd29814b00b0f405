// Debian packages for the images that are not Go programs, the way scripts/lib/rootfs.ts
// assembles the distroless root filesystem: apt's candidate versions, `apt-get download` into a
// cache, `dpkg-deb -x` into a directory (maintainer scripts never run).
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { candidateVersions as aptCandidates } from "../../lib/rootfs";
import { run } from "./util";

/** What is missing on this host to assemble root filesystems from .debs, or undefined. */
export function debsUnavailable(): string | undefined {
  for (const tool of ["apt-get", "apt-cache", "dpkg-deb", "dpkg", "tar"]) {
    if (!Bun.which(tool)) return `${tool} is not installed (a Debian host is needed)`;
  }
  if (process.getuid?.() !== 0) return "extracting packages with their ownership needs root";
  return undefined;
}

/** apt's candidate version of each package (runs apt-get update once when one is unknown). */
export async function candidateVersions(packages: readonly string[]): Promise<Record<string, string>> {
  const versions = aptCandidates(packages);
  const missing = packages.filter((p) => !versions[p]);
  if (missing.length) throw new Error(`apt has no candidate for ${missing.join(", ")}`);
  return versions;
}

/** Downloads the packages at those versions into debDir (once) and extracts them into dir. */
export async function extractPackages(packages: readonly string[], versions: Record<string, string>, debDir: string, dir: string): Promise<void> {
  mkdirSync(debDir, { recursive: true });
  const fileFor = (p: string) => {
    // apt-get download writes <name>_<version, ':' as %3a>_<arch>.deb
    const prefix = `${p}_${versions[p]!.replaceAll(":", "%3a")}_`;
    return readdirSync(debDir).find((f) => f.startsWith(prefix) && f.endsWith(".deb"));
  };
  const todo = packages.filter((p) => !fileFor(p));
  if (todo.length) {
    await run(["apt-get", "download", "-qq", "-o", "APT::Sandbox::User=root", ...todo.map((p) => `${p}=${versions[p]}`)], { cwd: debDir });
  }
  mkdirSync(dir, { recursive: true });
  for (const p of packages) {
    const f = fileFor(p);
    if (!f) throw new Error(`apt-get download did not produce ${p} ${versions[p]}`);
    await run(["dpkg-deb", "-x", join(debDir, f), dir]);
  }
  if (!existsSync(dir)) throw new Error(`extracting into ${dir} failed`);
}
