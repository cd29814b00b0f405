// Compiles the service into one self-contained executable (used by `bun run build`, the image
// build stage and the binary tests).
//
// Flags follow Elysia's production guide: --minify-whitespace --minify-syntax, never plain
// --minify (identifier mangling breaks Elysia's handler analysis and trace names).
// The CPU stress worker and the Kubernetes client are extra entrypoints, loaded only when used
// (src/embedded.ts). .env / bunfig.toml autoloading is off so the binary behaves the same in any
// working directory.
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { gitRevision, ROOT } from "./repo";

export const ENTRYPOINTS = ["src/main.ts", "src/modules/chaos/stress-worker.ts", "src/modules/cluster/client.ts"] as const;
// Extra entrypoints are embedded at their path relative to --root: /$bunfs/root/chaos/stress-worker.ts
// and so on, which is where embeddedModuleUrl() (src/embedded.ts) looks for them.
export const EMBED_ROOT = "src/modules";
/** Whether --bytecode is on by default; decided by measuring cold start (docs/reference/binary-and-image.md). */
export const BYTECODE_DEFAULT = true;

const GLIBC_TARGETS = ["bun-linux-x64", "bun-linux-x64-baseline", "bun-linux-x64-modern", "bun-linux-arm64"];

export interface BuildOptions {
  target?: string;
  outfile?: string;
  bytecode?: boolean;
  revision?: string;
  quiet?: boolean;
}

export interface BuildResult {
  outfile: string;
  target: string;
  version: string;
  revision: string;
  bytecode: boolean;
  bytes: number;
  ms: number;
}

function hostTarget(): string {
  return `bun-${process.platform}-${process.arch}`;
}

export async function build(options: BuildOptions = {}): Promise<BuildResult> {
  const env = process.env;
  const native = hostTarget();
  const target = options.target ?? native;
  if (target.includes("musl")) {
    console.warn(`warning: ${target} links musl; it will not run on the glibc distroless image`);
  } else if (target !== native && !GLIBC_TARGETS.includes(target) && !target.startsWith("bun-")) {
    throw new Error(`--target=${target}: expected one of ${GLIBC_TARGETS.join(", ")}`);
  }
  const cross = target !== native;
  const outfile = resolve(ROOT, options.outfile ?? (cross ? `dist/bun-k8s-${target.replace(/^bun-/, "")}` : "dist/bun-k8s"));
  const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { version: string };
  const version = pkg.version;
  const revision = options.revision ?? env.BUILD_REVISION ?? gitRevision();
  const bytecode = options.bytecode ?? BYTECODE_DEFAULT;

  for (const entry of ENTRYPOINTS) {
    if (!existsSync(join(ROOT, entry))) throw new Error(`missing entrypoint ${entry}`);
  }
  mkdirSync(dirname(outfile), { recursive: true });

  const args = [
    process.execPath, "build", "--compile",
    `--target=${target}`,
    `--root=${EMBED_ROOT}`,
    "--format=esm", // the default, but --bytecode would otherwise switch to cjs (main.ts uses top-level await)
    "--minify-whitespace", "--minify-syntax",
    "--sourcemap=linked", // embedded in the executable: stack traces name src/ files and lines
    "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
    "--define", `BUILD_VERSION=${JSON.stringify(version)}`,
    "--define", `BUILD_REVISION=${JSON.stringify(revision)}`,
    ...(bytecode ? ["--bytecode"] : []),
    `--outfile=${outfile}`,
    ...ENTRYPOINTS,
  ];
  const started = performance.now();
  const proc = Bun.spawn(args, { cwd: ROOT, stdout: options.quiet ? "pipe" : "inherit", stderr: "pipe" });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  const stdout = options.quiet && proc.stdout instanceof ReadableStream ? await new Response(proc.stdout).text() : "";
  if (code !== 0) {
    throw new Error(`bun build --compile failed (exit ${code}):\n${stdout}${stderr}`);
  }
  // --sourcemap also writes the maps beside the output; the executable carries its own copy.
  for (const entry of ENTRYPOINTS) {
    const map = entry === ENTRYPOINTS[0] ? basename(outfile) : basename(entry).replace(/\.ts$/, ".js");
    rmSync(join(dirname(outfile), `${map}.map`), { force: true });
  }
  const ms = Math.round(performance.now() - started);
  const bytes = statSync(outfile).size;
  return { outfile, target, version, revision, bytecode, bytes, ms };
}

