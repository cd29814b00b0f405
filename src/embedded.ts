// Modules that load apart from the main bundle: the CPU stress worker, and the Kubernetes client
// (which, bundled in, would add ~14 MiB of RSS and ~60 ms of start-up to every process, view on or
// off). `bun build --compile` embeds each as an extra entry point (scripts/lib/build.ts) at its
// path below src/modules, as /$bunfs/root/<path>; inside the executable every bundled module's
// import.meta.url is the executable's own, file:///$bunfs/root/<outfile> (oven-sh/bun#29124,
// #15981, still so on 1.4.4), so that is where a relative URL from here lands. From source, the
// URL is the file itself.
const IN_EXECUTABLE = import.meta.url.startsWith("file:///$bunfs/");

/** The URL to import() or new Worker() an embedded module, given by its path below src/modules. */
export function embeddedModuleUrl(pathBelowModules: string): string {
  return IN_EXECUTABLE ? new URL(`./${pathBelowModules}`, import.meta.url).href : new URL(`./modules/${pathBelowModules}`, import.meta.url).href;
}
