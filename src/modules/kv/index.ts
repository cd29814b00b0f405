import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps";
import { deadlineParser } from "../../http/body";
import { HttpError, invalidRequest } from "../../http/errors";
import type { KvLimits } from "../../store/types";

const tags = ["state"];
const LIST_LIMIT = 1000;

function fullError(full: "keys" | "bytes", limits: KvLimits) {
  return new HttpError(507, "kv store full", {
    detail: full === "keys" ? `at most ${limits.maxKeys} keys (KV_MAX_KEYS)` : `at most ${limits.maxBytes} bytes of keys and values (KV_MAX_BYTES)`,
    hint: `delete keys with DELETE /kv/:key, or wait: keys expire ${limits.ttlSeconds} s after their last write (KV_TTL_SECONDS)`,
  });
}

/**
 * Bun's router decodes a malformed %-sequence in a path parameter to U+FFFD, so /kv/%ZZ, /kv/%FF
 * and /kv/%EF%BF%BD would all name the same key (app.handle() leaves such a key null: 422). A key
 * with U+FFFD in it is checked against the raw path, and refused unless it was sent encoded.
 */
function checkEncoding(key: string, url: string): void {
  if (!key.includes("\uFFFD")) return;
  const path = new URL(url).pathname;
  try {
    decodeURIComponent(path.slice(path.indexOf("/kv/") + 4));
  } catch {
    throw invalidRequest("/key", "key is not valid percent-encoded UTF-8");
  }
}

/** A tiny key-value API in its own key namespace: clients cannot reach sessions or counters. */
export const kvModule = (deps: AppDeps) => {
  const { store, config } = deps;
  const limits: KvLimits = { maxKeys: config.kvMaxKeys, maxBytes: config.kvMaxBytes, ttlSeconds: config.kvTtlSeconds };
  const keyParams = t.Object({
    key: t.String({
      minLength: 1,
      maxLength: config.maxKeyLength,
      pattern: "^[^\\u0000-\\u001f\\u007f]+$",
      description: `1 to ${config.maxKeyLength} characters, no control characters`,
    }),
  });

  return new Elysia()
    .get("/kv", async () => {
      const keys = await store.kvKeys(LIST_LIMIT);
      return { keys, count: keys.length, limit: LIST_LIMIT, server: deps.hostname };
    }, { detail: { tags, summary: `List keys (up to ${LIST_LIMIT})` } })
    .get("/kv/:key", async ({ params, request }) => {
      checkEncoding(params.key, request.url);
      const value = await store.kvGet(params.key);
      if (value === null) throw new HttpError(404, "key not found", { detail: { key: params.key } });
      return { key: params.key, value, server: deps.hostname };
    }, { params: keyParams, detail: { tags, summary: "Read a value (404 when missing)" } })
    .post("/kv/:key", async ({ params, body, request }) => {
      checkEncoding(params.key, request.url);
      const bytes = Buffer.byteLength(body.value, "utf8");
      if (bytes > config.maxValueBytes) {
        throw new HttpError(413, "value too large", { detail: { max_bytes: config.maxValueBytes, bytes } });
      }
      const result = await store.kvSet(params.key, body.value, limits);
      if (!result.stored) throw fullError(result.full, limits);
      return { key: params.key, value: body.value, expires_in: limits.ttlSeconds, server: deps.hostname };
    }, {
      params: keyParams,
      parse: deadlineParser({ maxBytes: config.maxBodyBytes, timeoutSeconds: config.bodyTimeoutSeconds }),
      body: t.Object({ value: t.String({ description: `a string of at most MAX_VALUE_BYTES (${config.maxValueBytes}) bytes` }) }),
      detail: { tags, summary: 'Write a value: body {"value": string}' },
    })
    .delete("/kv/:key", async ({ params, request }) => {
      checkEncoding(params.key, request.url);
      const deleted = await store.kvDelete(params.key);
      return { key: params.key, deleted, server: deps.hostname };
    }, { params: keyParams, detail: { tags, summary: "Delete a key (idempotent; deleted tells whether it existed)" } });
};
