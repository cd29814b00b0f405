import { Elysia } from "elysia";
import type { AppDeps } from "../../deps";
import { HttpError } from "../../http/errors";

const tags = ["cluster"];
const encoder = new TextEncoder();
/**
 * A comment line this often keeps a quiet stream open: Elysia's server closes a connection idle
 * for 30 s (its idleTimeout), and so do many proxies and load balancers.
 */
export const KEEPALIVE_MS = 10_000;
/** How long GET /cluster waits for a view that is still connecting before it answers. */
const SETTLE_MS = 3_000;

const OFF = () =>
  new HttpError(404, "cluster view is off", {
    hint: "set CLUSTER_VIEW=true (the kind and docker-desktop overlays do, with the read-only Role of kustomize/components/cluster-view)",
  });

/** text/event-stream of the view: one `snapshot` event now and one after every change. */
export function snapshotStream(
  subscribe: (send: (snapshot: string) => void, end: () => void) => () => void,
): ReadableStream<Uint8Array> {
  let unsubscribe = () => {};
  let keepalive: ReturnType<typeof setInterval> | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          unsubscribe();
        }
      };
      const end = () => {
        clearInterval(keepalive);
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      };
      unsubscribe = subscribe((snapshot) => write(`event: snapshot\ndata: ${snapshot}\n\n`), end);
      keepalive = setInterval(() => write(": keepalive\n\n"), KEEPALIVE_MS);
    },
    cancel() {
      unsubscribe();
      clearInterval(keepalive);
    },
  });
}

/** The cluster view (CLUSTER_VIEW): this namespace's workloads as the Kubernetes API reports them. */
export const clusterModule = (deps: AppDeps) => {
  const view = deps.clusterView;
  return new Elysia()
    .get("/cluster", async () => {
      if (!view.enabled) throw OFF();
      const snapshot = await view.settled(SETTLE_MS);
      if (snapshot.state !== "live") {
        throw new HttpError(503, "cluster view unavailable", { detail: { state: snapshot.state, reason: snapshot.reason } });
      }
      return snapshot;
    }, { detail: { tags, summary: "Deployments → ReplicaSets → Pods with endpoint conditions, HPAs and recent events of this namespace" } })
    .get("/cluster/events", ({ request }) => {
      if (!view.enabled) throw OFF();
      if (view.clients >= view.maxClients) {
        throw new HttpError(503, "too many cluster view streams", { hint: `at most CLUSTER_VIEW_MAX_CLIENTS=${view.maxClients} at once` });
      }
      let unsubscribe = () => {};
      const stream = snapshotStream((send, end) => (unsubscribe = view.subscribe(send, end)));
      request.signal.addEventListener("abort", () => unsubscribe(), { once: true });
      return new Response(stream, {
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-store",
          // Tells nginx-style proxies not to buffer the stream.
          "x-accel-buffering": "no",
        },
      });
    }, { detail: { tags, summary: "The same view as Server-Sent Events: a snapshot now and after every change (one shared set of watches)" } });
};
