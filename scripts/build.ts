#!/usr/bin/env bun
// `bun run build`: compile the service into one self-contained executable, dist/bun-k8s.
//
//   bun run build                              native target -> dist/bun-k8s
//   bun run build --target=bun-linux-arm64     cross-compile -> dist/bun-k8s-linux-arm64
//   bun run build --outfile=/tmp/x/bun-k8s     anywhere else
//   bun run build --bytecode | --no-bytecode   override the measured default (docs/reference/binary-and-image.md)
//   bun run build --revision=abc1234           override the git revision (BUILD_REVISION env works too)
import { relative } from "node:path";
import { build, type BuildOptions } from "./lib/build";

function parseArgs(argv: string[]): BuildOptions {
  const options: BuildOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case "--target": options.target = value(); break;
      case "--outfile": options.outfile = value(); break;
      case "--revision": options.revision = value(); break;
      case "--bytecode": options.bytecode = true; break;
      case "--no-bytecode": options.bytecode = false; break;
      case "--help": case "-h":
        console.log("usage: bun run build [--target=bun-linux-x64|bun-linux-arm64] [--outfile=path] [--bytecode|--no-bytecode] [--revision=rev]");
        process.exit(0);
      default: throw new Error(`unknown argument ${arg} (see --help)`);
    }
  }
  return options;
}

if (import.meta.main) {
  try {
    const r = await build(parseArgs(process.argv.slice(2)));
    const mb = (r.bytes / 1024 / 1024).toFixed(1);
    console.log(
      `built ${relative(process.cwd(), r.outfile) || r.outfile}: ${r.target}, ${mb} MiB, version ${r.version} (${r.revision})` +
        `${r.bytecode ? ", bytecode" : ""} in ${r.ms} ms`,
    );
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
