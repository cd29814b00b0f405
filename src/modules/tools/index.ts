import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps";
import { readBody } from "../../http/body";
import { HttpError, type ErrorBody } from "../../http/errors";
import { decimalInt } from "../../http/numbers";
import { readResolvConf, resolveName, dnsHttpError, validateDnsName, type DnsType } from "./dns";
import { describeBody } from "./echo";
import { maskEnv } from "./env";
import { headersJson } from "./headers";
import { statusResponse } from "./status";
import { chunkedStream } from "./stream";
import { CLOSE_TOO_BIG, echoFrame, frameBytes } from "./ws";

const tags = ["tools"];
/** Concurrent /dns lookups; getaddrinfo runs on a small thread pool, so more wait with 429. */
export const MAX_DNS_IN_FLIGHT = 16;
// Echoed and environment data must never be cached by a proxy in between.
const NO_STORE = { "cache-control": "no-store" } as const;

/** Traffic and discovery tools (podinfo / kuard style): env, headers, echo, delay, status, dns, ws, chunked. */
export const toolsModule = (deps: AppDeps) => {
  const { config, hostname, logger } = deps;
  const maxSeconds = config.maxDelaySeconds;
  const secondsParams = t.Object({
    seconds: decimalInt("seconds", { minimum: 0, maximum: maxSeconds, description: `0 to MAX_DELAY_SECONDS (${maxSeconds})` }),
  });
  const codeParams = t.Object({
    code: decimalInt("code", { minimum: 100, maximum: 599, description: "an HTTP status code, 200 to 599 (1xx: 400)" }),
  });
  let dnsInFlight = 0;
  let websocketsOpen = 0;

  const statusHandler = ({ params, set }: { params: { code: number }; set: { status?: number | string } }) => {
    const response = statusResponse(params.code, hostname);
    set.status = params.code; // so request metrics see the status that was sent
    return response;
  };

  return new Elysia({ name: "tools" })
    .get("/env", ({ set }) => {
      Object.assign(set.headers, NO_STORE);
      const { env, masked } = maskEnv(deps.env);
      return { env, masked, count: Object.keys(env).length, server: hostname };
    }, { detail: { tags, summary: "Process environment (ConfigMap and Downward API values); secrets masked" } })
    .get("/headers", ({ request, set }) => {
      Object.assign(set.headers, NO_STORE);
      const { headers, masked } = headersJson(request.headers);
      return { headers, masked, server: hostname };
    }, { detail: { tags, summary: "Request headers as received (what an ingress or proxy adds); cookies, authorization and headers named like a key or token masked" } })
    .post("/echo", async ({ request, query, set }) => {
      // The echoed body is the client's: no browser may run it as a page.
      Object.assign(set.headers, NO_STORE, { "content-security-policy": "default-src 'none'" });
      const bytes = await readBody(request, { maxBytes: config.maxEchoBytes, timeoutSeconds: config.bodyTimeoutSeconds });
      if (query.format === "text") {
        set.headers["content-type"] = "text/plain; charset=utf-8";
        return new Response(bytes, { headers: set.headers as Record<string, string> });
      }
      const contentType = request.headers.get("content-type");
      const url = new URL(request.url);
      return {
        method: request.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: headersJson(request.headers).headers,
        content_type: contentType,
        body_bytes: bytes.byteLength,
        ...describeBody(bytes, contentType),
        server: hostname,
      };
    }, {
      parse: "none",
      query: t.Object({
        format: t.Optional(t.UnionEnum(["json", "text"], { description: "json (default): body and headers as JSON; text: the body alone as text/plain" })),
      }),
      detail: {
        tags,
        summary: `Echo the request body (at most MAX_ECHO_BYTES, ${config.maxEchoBytes}) and headers; JSON or text/plain, never HTML`,
      },
    })
    .get("/delay/:seconds", async ({ params }) => {
      const started = performance.now();
      await Bun.sleep(params.seconds * 1000);
      return { delayed_seconds: params.seconds, elapsed_ms: Math.round(performance.now() - started), server: hostname };
    }, {
      params: secondsParams,
      detail: { tags, summary: `Answer after N whole seconds (at most MAX_DELAY_SECONDS); holds no thread` },
    })
    .get("/status/:code", statusHandler, {
      params: codeParams,
      detail: { tags, summary: "Answer with this status code (retry and error-page tests)" },
    })
    .post("/status/:code", statusHandler, {
      params: codeParams,
      detail: { tags, summary: "Answer with this status code (retry and error-page tests)" },
    })
    .get("/dns", async ({ query, set }) => {
      Object.assign(set.headers, NO_STORE);
      const type: DnsType | undefined = query.type === "ANY" ? undefined : query.type;
      const valid = validateDnsName(query.name, type);
      if ("error" in valid) throw new HttpError(422, "invalid name", { detail: valid.error });
      if (dnsInFlight >= MAX_DNS_IN_FLIGHT) {
        throw new HttpError(429, "too many concurrent dns lookups", { detail: { max: MAX_DNS_IN_FLIGHT } });
      }
      dnsInFlight++;
      try {
        const conf = await readResolvConf();
        let answer;
        try {
          answer = await resolveName(valid.name, type, conf, config.dnsTimeoutMs);
        } catch (err) {
          logger.debug("dns lookup failed", { name: valid.name, error: (err as Error).message });
          throw dnsHttpError(err, valid.name);
        }
        return {
          name: valid.name,
          type: type ?? "ANY",
          ...answer,
          search: conf.search,
          ndots: conf.ndots,
          nameservers: conf.nameservers,
          server: hostname,
        };
      } finally {
        dnsInFlight--;
      }
    }, {
      query: t.Object({
        name: t.String({ minLength: 1, maxLength: 254, description: "a hostname, e.g. redis or redis.default.svc.cluster.local" }),
        // ANY first: Elysia fills an absent optional enum in a query with its first member.
        type: t.Optional(t.UnionEnum(["ANY", "A", "AAAA", "SRV"], { description: "ANY (default): A and AAAA through the system resolver; SRV: service records along the search path" })),
      }),
      detail: { tags, summary: "Resolve a name (A/AAAA, or SRV) and show the search domains and ndots from /etc/resolv.conf; never connects" },
    })
    .get("/chunked/:seconds", ({ params, set }) => {
      set.status = 200;
      return new Response(chunkedStream(params.seconds, hostname), {
        headers: { "content-type": "application/x-ndjson", ...NO_STORE },
      });
    }, {
      params: t.Object({
        seconds: decimalInt("seconds", { minimum: 0, maximum: maxSeconds, description: `0 to MAX_DELAY_SECONDS (${maxSeconds})` }),
      }),
      detail: { tags, summary: "Stream one NDJSON line per second for N seconds (chunked transfer; proxy buffering tests)" },
    })
    .get("/ws/echo", ({ set }) => {
      set.status = 426;
      set.headers.upgrade = "websocket";
      return { error: "websocket upgrade required", hint: "connect with a WebSocket client, e.g. websocat ws://HOST/ws/echo" } satisfies ErrorBody;
    }, {
      detail: {
        tags,
        summary: `WebSocket echo (upgrade required; messages up to MAX_WS_MESSAGE_BYTES, ${config.maxWsMessageBytes}, bigger ones close the socket with 1009)`,
      },
    })
    .ws("/ws/echo", {
      // Counted on open and close: a refused or failed upgrade never holds a slot.
      beforeHandle() {
        if (websocketsOpen >= config.wsMaxConnections) {
          throw new HttpError(503, "too many websocket connections", {
            detail: `at most ${config.wsMaxConnections} at once (WS_MAX_CONNECTIONS)`,
            hint: "retry later",
          });
        }
      },
      open() {
        deps.metrics.websocketsOpen.set(++websocketsOpen);
      },
      close() {
        deps.metrics.websocketsOpen.set(--websocketsOpen);
      },
      message(ws, message) {
        const frame = echoFrame(message);
        const bytes = frameBytes(frame);
        if (bytes > config.maxWsMessageBytes) {
          ws.send(JSON.stringify({ error: "message too large", max_bytes: config.maxWsMessageBytes, bytes }));
          ws.close(CLOSE_TOO_BIG, "message too large");
          return;
        }
        ws.send(frame);
      },
    });
};
