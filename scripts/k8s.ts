#!/usr/bin/env bun
// The logic behind the cluster tasks in Taskfile.yml, runnable without go-task:
//
//   bun run scripts/k8s.ts <command> [options]      (bun run scripts/k8s.ts help)
//
// Every kubectl call goes to --context / KUBE_CONTEXT (default: the current context) and
// --namespace / KUBE_NAMESPACE (default: the context's namespace); `up` always targets the kind
// cluster it creates. Prerequisites are checked before anything runs.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildAppImage, importIntoLocalCluster, lastBuild, pinnedOverlay, type BuiltImage } from "./lib/images";
import { durationSeconds, Kube } from "./lib/kube";
import { CONTEXT as LOCAL_CONTEXT } from "./lib/local-cluster";
import { checkTools, dockerDaemonMessage, type Tool } from "./lib/prereqs";
import {
  APP_DEPLOYMENT,
  APP_HPA,
  APP_SELECTOR,
  APP_SERVICE,
  DEFAULT_OVERLAY,
  KIND_CONFIG,
  METRICS_SERVER,
  REDIS_DEPLOYMENT,
  REDIS_PVC,
  REDIS_SELECTOR,
  ROOT,
  STACK_SELECTOR,
  kindSettings,
  overlayImage,
  overlayNames,
  namespaceManifest,
  overlayPath,
  podSecurityLevel,
} from "./lib/cluster-settings";

export interface Options {
  positional: string[];
  context?: string;
  namespace?: string;
  overlay?: string;
  tag?: string;
  port?: number;
  tail?: number;
  revision?: number;
  timeout: string;
  follow: boolean;
  watch: boolean;
  redis: boolean;
  skipBuild: boolean;
}

interface Command {
  summary: string;
  usage: string;
  needs: Tool[];
  /** Also needs a running Docker daemon. */
  daemon?: boolean;
  run(o: Options): Promise<void>;
}

interface PodWithLogs {
  metadata: { name: string };
  status: { phase?: string; containerStatuses?: { state?: Record<string, unknown>; lastState?: Record<string, unknown> }[] };
}

export class UsageError extends Error {}
class StepError extends Error {}

// ---- process helpers -------------------------------------------------------------------------

async function sh(argv: string[], options: { allowFail?: boolean; quiet?: boolean } = {}): Promise<number> {
  if (!options.quiet) console.error(`$ ${argv.join(" ")}`);
  const proc = Bun.spawn(argv, { cwd: ROOT, stdin: "inherit", stdout: "inherit", stderr: "inherit" });
  const code = await proc.exited;
  if (code !== 0 && !options.allowFail) throw new StepError(`${argv[0]} exited with code ${code}: ${argv.join(" ")}`);
  return code;
}

function capture(argv: string[]): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync(argv, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const step = (text: string) => console.error(`\n==> ${text}`);

function kubeFor(o: Options, context = o.context): Kube {
  return new Kube({ context, namespace: o.namespace, echo: true });
}

async function kubectl(kube: Kube, args: string[], options: { allowFail?: boolean; namespaced?: boolean } = {}): Promise<number> {
  const code = await kube.interactive(args, options.namespaced ?? true);
  if (code !== 0 && !options.allowFail) throw new StepError(`kubectl exited with code ${code}`);
  return code;
}

/** The Kube for a command, after checking a context is set (kubectl would otherwise try localhost:8080). */
async function connect(o: Options): Promise<Kube> {
  const kube = kubeFor(o);
  const ctx = await kube.currentContext();
  if (!ctx) {
    throw new StepError("kubectl has no current context: run `task up` (kind) or pass --context / set KUBE_CONTEXT");
  }
  console.error(`context: ${ctx}${kube.namespace ? `, namespace: ${kube.namespace}` : ""}`);
  return kube;
}

/** Which kind of cluster a context is: the images it runs must be handed to it differently. */
function clusterKindOf(context: string | undefined): "kind" | "local" | "docker-desktop" | "other" {
  if (context === kindSettings().context) return "kind";
  if (context === LOCAL_CONTEXT) return "local";
  if (context === "docker-desktop") return "docker-desktop";
  return "other";
}

/** Builds (or, with --skip-build, reuses) the overlay's image and hands it to the cluster's nodes. */
async function imageForCluster(o: Options, overlay: string, kind: ReturnType<typeof clusterKindOf>): Promise<BuiltImage | null> {
  const ref = overlayImage(overlay);
  if (kind === "other") {
    console.error(`context is not a local cluster: deploying ${ref} as the overlay names it (push it to a registry the cluster pulls from)`);
    return null;
  }
  let image: BuiltImage | null;
  if (o.skipBuild) {
    image = lastBuild(ref);
    if (!image) throw new StepError(`--skip-build: no earlier build of ${ref}; run without --skip-build`);
    console.error(`build skipped (--skip-build): ${image.uniqueRef}`);
  } else {
    step(`image ${ref}`);
    image = await buildAppImage(ref);
  }
  if (kind === "kind") {
    if (image.builder !== "docker") throw new StepError("kind loads images from Docker: build with a running Docker daemon");
    await sh(["kind", "load", "docker-image", image.ref, image.uniqueRef, "--name", kindSettings().name]);
  } else if (kind === "local") {
    importIntoLocalCluster(image);
  } else if (image.builder !== "docker") {
    throw new StepError("Docker Desktop's Kubernetes runs images from its Docker engine: build with Docker");
  }
  return image;
}

/** `kubectl apply -k` of the overlay, with the app image pinned to this build's unique tag. */
async function applyOverlay(kube: Kube, overlay: string, image: BuiltImage | null) {
  await ensureNamespace(kube, overlay);
  await kubectl(kube, ["apply", "-k", image ? pinnedOverlay(overlay, image) : overlay]);
}

function kindClusters(): string[] {
  const r = capture(["kind", "get", "clusters"]);
  if (r.code !== 0) throw new StepError(`kind get clusters failed: ${r.stderr.trim()}`);
  return r.stdout.split("\n").map((s) => s.trim()).filter(Boolean);
}

async function ensureNamespace(kube: Kube, overlay: string) {
  if (!kube.namespace) return;
  const manifest = namespaceManifest(kube.namespace, podSecurityLevel(overlay.split("/").pop()!));
  await kube.out(["apply", "-f", "-"], { namespaced: false, stdin: JSON.stringify(manifest) });
}

async function waitForStack(kube: Kube, timeout: string) {
  step("waiting for the rollouts");
  await kubectl(kube, ["rollout", "status", `deployment/${REDIS_DEPLOYMENT}`, `--timeout=${timeout}`]);
  await waitForHpaFloor(kube, durationSeconds(timeout) ?? 180);
  await kubectl(kube, ["rollout", "status", `deployment/${APP_DEPLOYMENT}`, `--timeout=${timeout}`]);
}

/**
 * The Deployment sets no replicas because the HPA owns them: a new one starts at 1 and the HPA
 * raises it to its minimum at its next sync. Waiting for that makes "deployed" mean the floor.
 */
async function waitForHpaFloor(kube: Kube, seconds: number) {
  const hpa = await kube.run(["get", `hpa/${APP_HPA}`, "-o", "jsonpath={.spec.minReplicas}"]);
  const min = Number(hpa.stdout.trim());
  if (hpa.code !== 0 || !Number.isInteger(min) || min < 1) return;
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const r = await kube.run(["get", `deployment/${APP_DEPLOYMENT}`, "-o", "jsonpath={.spec.replicas}"]);
    if (r.code === 0 && Number(r.stdout.trim()) >= min) return;
    if (Date.now() > deadline) {
      throw new StepError(`HPA ${APP_HPA} did not raise deployment/${APP_DEPLOYMENT} to its minimum of ${min} within ${seconds}s: see \`task hpa-status\``);
    }
    await Bun.sleep(1000);
  }
}

/** GETs `url` until it answers 200 or the deadline passes; prints the reply. */
async function probe(url: string, seconds = 60): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      const text = await res.text();
      if (res.ok) {
        console.log(`GET ${url} -> ${res.status} ${text}`);
        return true;
      }
      last = `${res.status} ${text}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await Bun.sleep(1000);
  }
  console.error(`GET ${url} did not answer 200 within ${seconds}s (last: ${last})`);
  return false;
}

// ---- commands --------------------------------------------------------------------------------

const commands: Record<string, Command> = {
  check: {
    summary: "Check the prerequisites (docker and its daemon, kind, kubectl)",
    usage: "check",
    needs: ["docker", "kind", "kubectl"],
    daemon: true,
    async run() {
      console.log("docker, kind and kubectl are installed and the Docker daemon answers");
    },
  },

  up: {
    summary: "Create the kind cluster if absent, build and load the image, install metrics-server, apply the kind overlay, wait, print the URL",
    usage: "up [--skip-build] [--namespace NS] [--timeout 180s]",
    needs: ["docker", "kind", "kubectl"],
    daemon: true,
    async run(o) {
      const kind = kindSettings();
      const overlay = overlayPath(DEFAULT_OVERLAY);

      step(`kind cluster ${kind.name}`);
      if (kindClusters().includes(kind.name)) {
        console.error(`cluster ${kind.name} exists; reusing it`);
      } else {
        await sh(["kind", "create", "cluster", "--config", KIND_CONFIG, "--wait", "120s"]);
      }
      // Every later task talks to the current context: make it this cluster's, reused or new.
      await sh(["kubectl", "config", "use-context", kind.context]);
      const kube = kubeFor(o, kind.context);

      const image = await imageForCluster(o, DEFAULT_OVERLAY, "kind");

      step("metrics-server (pinned, patched for kind: --kubelet-insecure-tls)");
      await kubectl(kube, ["apply", "-k", METRICS_SERVER], { namespaced: false });

      step(`apply ${overlay}`);
      await applyOverlay(kube, overlay, image);
      await waitForStack(kube, o.timeout);
      step("metrics-server rollout (the HPA needs it; kubectl top works ~30 s later)");
      await kubectl(kube, ["-n", "kube-system", "rollout", "status", "deployment/metrics-server", `--timeout=${o.timeout}`], {
        namespaced: false,
        allowFail: true,
      });

      step("ready");
      if (!kind.url) {
        console.log(`\nbun-k8s is up; no host port mapping in ${KIND_CONFIG}: use \`task port-forward\``);
        return;
      }
      if (!(await probe(`${kind.url}/`))) {
        throw new StepError(`the stack is deployed but ${kind.url}/ does not answer: see \`task status\` and \`task logs\``);
      }
      console.log(`\nbun-k8s is up: ${kind.url}\n  curl ${kind.url}/visits\n  task status | task logs | task down | task clean`);
    },
  },

  down: {
    summary: "Delete the stack (the overlay's objects, including Redis' volume); keeps the cluster",
    usage: "down [OVERLAY] (default kind)",
    needs: ["kubectl"],
    async run(o) {
      const overlay = overlayPath(o.overlay ?? o.positional[0] ?? DEFAULT_OVERLAY);
      const kube = await connect(o);
      await kubectl(kube, ["delete", "-k", overlay, "--ignore-not-found", "--wait=true"]);
      console.log("stack deleted (the cluster and metrics-server stay; `task clean` deletes the cluster)");
    },
  },

  clean: {
    summary: "Delete the kind cluster (everything in it)",
    usage: "clean",
    needs: ["docker", "kind"],
    daemon: true,
    async run() {
      const kind = kindSettings();
      if (!kindClusters().includes(kind.name)) {
        console.log(`no kind cluster named ${kind.name}: nothing to delete`);
        return;
      }
      await sh(["kind", "delete", "cluster", "--name", kind.name]);
    },
  },

  deploy: {
    summary: "On a local cluster (kind, the local cluster, Docker Desktop) build the image and hand it to the nodes; apply an overlay with it and wait",
    usage: `deploy OVERLAY (one of: ${overlayNames().join(", ")}) [--skip-build]`,
    needs: ["kubectl"],
    async run(o) {
      const name = o.overlay ?? o.positional[0] ?? DEFAULT_OVERLAY;
      const overlay = overlayPath(name);
      const kube = await connect(o);
      const image = await imageForCluster(o, name, clusterKindOf((await kube.currentContext()) ?? undefined));
      await applyOverlay(kube, overlay, image);
      await waitForStack(kube, o.timeout);
    },
  },

  status: {
    summary: "Show the stack: deployments, pods (with nodes), services, endpoints, HPA, PDB, PVC, usage",
    usage: "status",
    needs: ["kubectl"],
    async run(o) {
      const kube = await connect(o);
      await kubectl(kube, ["get", "deployments,replicasets,pods,services,hpa,pdb,pvc", "-l", STACK_SELECTOR, "-o", "wide"]);
      await kubectl(kube, ["get", "endpointslices", "-l", `kubernetes.io/service-name=${APP_SERVICE}`]);
      const top = await kubectl(kube, ["top", "pods", "-l", STACK_SELECTOR], { allowFail: true });
      if (top !== 0) console.error("(kubectl top needs metrics-server; right after `up` it takes ~30 s)");
    },
  },

  logs: {
    summary: "Logs of every app pod, prefixed with the pod name (--follow, --tail N, --redis)",
    usage: "logs [--follow] [--tail 100] [--redis]",
    needs: ["kubectl"],
    async run(o) {
      const kube = await connect(o);
      const selector = o.redis ? REDIS_SELECTOR : APP_SELECTOR;
      const tail = `--tail=${o.tail ?? 100}`;
      if (o.follow) {
        // Pods come and go while following (scale, rollout): one that is not running yet is not fatal.
        await kubectl(kube, ["logs", "-l", selector, "--all-containers", "--prefix", tail, "--max-log-requests=50", "--follow", "--ignore-errors"]);
        return;
      }
      // `kubectl logs -l` fails as a whole when one selected pod has not started a container yet
      // (right after a scale-up or during a rollout); show the others and say which has no log.
      const pods = await kube.json<{ items: PodWithLogs[] }>(["get", "pods", "-l", selector]);
      let shown = 0;
      for (const pod of pods.items) {
        const started = (pod.status.containerStatuses ?? []).some((c) => c.state?.running || c.state?.terminated || c.lastState?.terminated);
        if (!started) {
          console.error(`pod/${pod.metadata.name}: no log yet (${pod.status.phase ?? "unknown"})`);
          continue;
        }
        if ((await kubectl(kube, ["logs", `pod/${pod.metadata.name}`, "--all-containers", "--prefix", tail], { allowFail: true })) === 0) shown++;
      }
      if (pods.items.length === 0) console.error(`no pods match ${selector}`);
      else if (shown === 0) process.exitCode = 1;
    },
  },

  scale: {
    summary: "Set the app's replica count now (the HPA owns it and moves it back to what CPU asks for)",
    usage: "scale N",
    needs: ["kubectl"],
    async run(o) {
      const raw = o.positional[0] ?? "";
      if (!/^\d+$/.test(raw)) throw new UsageError(`scale needs a replica count: scale N (got ${JSON.stringify(raw)}); with task: task scale N=5`);
      const n = Number(raw);
      const kube = await connect(o);
      const hpa = await kube.run(["get", `hpa/${APP_HPA}`, "-o", "jsonpath={.spec.minReplicas} {.spec.maxReplicas}"]);
      if (hpa.code === 0) {
        const [min, max] = hpa.stdout.trim().split(" ").map(Number);
        if (min !== undefined && max !== undefined && (n < min || n > max)) {
          console.error(`note: HPA ${APP_HPA} keeps between ${min} and ${max} replicas; it will move ${n} back into that range`);
        }
        console.error(`note: HPA ${APP_HPA} owns the count: when CPU asks for fewer pods it scales back down (after its scale-down window, one pod a minute); to hold ${n}, raise its minimum: kubectl patch hpa/${APP_HPA} -p '{"spec":{"minReplicas":${n}}}'`);
      }
      await kubectl(kube, ["scale", `deployment/${APP_DEPLOYMENT}`, `--replicas=${n}`]);
      await kubectl(kube, ["rollout", "status", `deployment/${APP_DEPLOYMENT}`, `--timeout=${o.timeout}`]);
    },
  },

  restart: {
    summary: "Rolling restart of the app (maxUnavailable 0: no request lost)",
    usage: "restart",
    needs: ["kubectl"],
    async run(o) {
      const kube = await connect(o);
      await kubectl(kube, ["rollout", "restart", `deployment/${APP_DEPLOYMENT}`]);
      await kubectl(kube, ["rollout", "status", `deployment/${APP_DEPLOYMENT}`, `--timeout=${o.timeout}`]);
    },
  },

  "rollout-status": {
    summary: "Wait for the app's rollout and show its revision history",
    usage: "rollout-status",
    needs: ["kubectl"],
    async run(o) {
      const kube = await connect(o);
      await kubectl(kube, ["rollout", "status", `deployment/${APP_DEPLOYMENT}`, `--timeout=${o.timeout}`]);
      await kubectl(kube, ["rollout", "history", `deployment/${APP_DEPLOYMENT}`]);
    },
  },

  rollback: {
    summary: "Roll the app back to the previous revision (or --revision N)",
    usage: "rollback [--revision N]",
    needs: ["kubectl"],
    async run(o) {
      const kube = await connect(o);
      await kubectl(kube, ["rollout", "undo", `deployment/${APP_DEPLOYMENT}`, ...(o.revision ? [`--to-revision=${o.revision}`] : [])]);
      await kubectl(kube, ["rollout", "status", `deployment/${APP_DEPLOYMENT}`, `--timeout=${o.timeout}`]);
    },
  },

  "hpa-status": {
    summary: "Show the HorizontalPodAutoscaler: targets, replicas, events (--watch to follow)",
    usage: "hpa-status [--watch]",
    needs: ["kubectl"],
    async run(o) {
      const kube = await connect(o);
      if (o.watch) {
        await kubectl(kube, ["get", `hpa/${APP_HPA}`, "--watch"]);
        return;
      }
      await kubectl(kube, ["get", `hpa/${APP_HPA}`]);
      await kubectl(kube, ["describe", `hpa/${APP_HPA}`]);
    },
  },

  "redis-status": {
    summary: "Show Redis: pod, volume, version, persistence, clients, keys and the visit counter",
    usage: "redis-status",
    needs: ["kubectl"],
    async run(o) {
      const kube = await connect(o);
      await kubectl(kube, ["get", "deployment,pods", "-l", REDIS_SELECTOR, "-o", "wide"]);
      await kubectl(kube, ["get", `pvc/${REDIS_PVC}`]);
      // REDISCLI_AUTH is set in the Redis container from the Secret, so no password here.
      const cli = (args: string[]) => kube.run(["exec", `deployment/${REDIS_DEPLOYMENT}`, "-c", "redis", "--", "redis-cli", "-h", "127.0.0.1", ...args]);
      const info = await cli(["info"]);
      if (info.code !== 0) {
        console.error(`redis-cli failed: ${info.stderr.trim()}`);
        process.exitCode = 1;
        return;
      }
      const wanted = /^(redis_version|uptime_in_seconds|connected_clients|used_memory_human|maxmemory_human|aof_enabled|aof_last_write_status|loading|db\d+):/;
      console.log(info.stdout.split(/\r?\n/).filter((l) => wanted.test(l)).join("\n"));
      const visits = await cli(["get", "bun-k8s:visits"]);
      console.log(`visits: ${visits.stdout.trim() || "(none yet)"}`);
    },
  },

  "port-forward": {
    summary: "Forward 127.0.0.1:PORT (default 8000) to the app Service",
    usage: "port-forward [--port 8000]",
    needs: ["kubectl"],
    async run(o) {
      const kube = await connect(o);
      const port = o.port ?? 8000;
      console.error(`http://127.0.0.1:${port} -> service/${APP_SERVICE} (Ctrl-C to stop)`);
      await kubectl(kube, ["port-forward", "--address", "127.0.0.1", `service/${APP_SERVICE}`, `${port}:http`]);
    },
  },

  image: {
    summary: "Build the image bun-k8s:<tag> and bun-k8s:<tag>-<id> from the Dockerfile (Docker, else podman; tag of the kind overlay, or --tag)",
    usage: "image [--tag dev] [--overlay kind]",
    needs: [],
    async run(o) {
      const fromOverlay = overlayImage(o.overlay ?? DEFAULT_OVERLAY);
      const image = o.tag ? `${fromOverlay.split(":")[0]}:${o.tag}` : fromOverlay;
      const built = await buildAppImage(image);
      console.log(`built ${built.ref} and ${built.uniqueRef}`);
    },
  },

  url: {
    summary: "Print the URL the kind cluster publishes the app on",
    usage: "url",
    needs: [],
    async run() {
      const { url } = kindSettings();
      console.log(url ?? "no host port mapping in kustomize/kind/cluster.yaml");
    },
  },
};

export const COMMANDS = Object.keys(commands);

export function helpText(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(15)} ${c.summary}\n  ${"".padEnd(15)} usage: ${c.usage}`);
  return [
    "usage: bun run scripts/k8s.ts <command> [options]",
    "",
    "Commands:",
    ...rows,
    "",
    "Common options: --context CTX (env KUBE_CONTEXT), --namespace NS (env KUBE_NAMESPACE), --timeout 180s",
    "",
  ].join("\n");
}

export function parseArgs(argv: string[], env: Record<string, string | undefined> = process.env): Options {
  const o: Options = {
    positional: [],
    context: env.KUBE_CONTEXT || undefined,
    namespace: env.KUBE_NAMESPACE || undefined,
    timeout: "180s",
    follow: false,
    watch: false,
    redis: false,
    skipBuild: false,
  };
  const int = (name: string, v: string) => {
    if (!/^\d+$/.test(v)) throw new UsageError(`${name}: expected a whole number, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) {
      if (arg !== "") o.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const value = () => {
      const v = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case "--context": o.context = value() || o.context; break;
      case "--namespace": case "--ns": o.namespace = value() || o.namespace; break;
      case "--overlay": o.overlay = value() || undefined; break;
      case "--tag": o.tag = value() || undefined; break;
      case "--timeout": {
        const v = value();
        if (v && durationSeconds(v) === null) throw new UsageError(`--timeout takes a duration such as 180s, 3m or 1m30s (got ${JSON.stringify(v)})`);
        if (v) o.timeout = v;
        break;
      }
      case "--port": { const v = value(); if (v) o.port = int(name, v); break; }
      case "--tail": o.tail = int(name, value()); break;
      case "--revision": { const v = value(); if (v) o.revision = int(name, v); break; }
      case "--follow": case "-f": o.follow = true; break;
      case "--watch": o.watch = true; break;
      case "--redis": o.redis = true; break;
      case "--skip-build": o.skipBuild = true; break;
      default: throw new UsageError(`unknown option ${name}`);
    }
  }
  return o;
}

/** Runs one command; returns the process exit code. */
export async function main(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(helpText());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`unknown command ${JSON.stringify(name)}\n\n${helpText()}`);
    return 2;
  }
  try {
    const options = parseArgs(rest, env);
    const pre = checkTools(command.needs, env, name);
    if (!pre.ok) {
      console.error(pre.message);
      return 1;
    }
    if (command.daemon) {
      const daemon = dockerDaemonMessage(env);
      if (daemon) {
        console.error(`prerequisite for ${name}: ${daemon}`);
        return 1;
      }
    }
    if (!existsSync(join(ROOT, KIND_CONFIG))) throw new StepError(`${KIND_CONFIG} is missing`);
    await command.run(options);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${name}: ${err.message}\nusage: bun run scripts/k8s.ts ${command.usage}`);
      return 2;
    }
    console.error(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (import.meta.main) {
  process.exit(await main(process.argv.slice(2)));
}
