import { Elysia, t } from "elysia";
import { signCookie, unsignCookie } from "elysia/utils";
import { randomBytes } from "node:crypto";
import type { AppDeps } from "../../deps";
import { deadlineParser } from "../../http/body";
import { HttpError } from "../../http/errors";
import { ConcurrencyGate, RateLimiter } from "./limits";
import { authenticate, DEMO_USERS, dummyPasswordFor, parseUsers } from "./users";

const tags = ["auth"];
/** Longer cookies are not ours (an id is 43 characters, 87 when signed). */
const MAX_COOKIE_LENGTH = 512;
/** Logins that may wait for a verify slot, per slot. */
const QUEUED_PER_VERIFY_SLOT = 16;

// `detail` is what the FastAPI original sent; `error` is the field every other route has.
const unauthorized = (detail: string) => new HttpError(401, detail, { detail });
const notAuthenticated = () => unauthorized("not authenticated");
const sessionExpired = () => unauthorized("session expired");

/**
 * Cookie sessions stored in the shared store, so any replica can answer /me. The user table is
 * AUTH_USERS; an invalid one throws ConfigError when the module is built, so the service does not start.
 */
export const authModule = (deps: AppDeps) => {
  const { config, store, logger } = deps;
  const users = parseUsers(config.authUsers ?? DEMO_USERS);
  if (!config.authUsers) {
    logger.warn("AUTH_USERS is not set: demo users admin/admin and user/user are active; set AUTH_USERS before exposing this service");
  } else {
    // Names only: a reader of the log sees at once when a stray comma made a user of a password.
    logger.info("users loaded from AUTH_USERS", { users: [...users.keys()] });
  }
  const attempts = new RateLimiter(config.loginRateLimit);
  const verifies = new ConcurrencyGate(config.loginMaxConcurrentVerifies, config.loginMaxConcurrentVerifies * QUEUED_PER_VERIFY_SLOT);
  // Started now, so the first unknown user does not pay for making it.
  const dummy = dummyPasswordFor(users);
  const cookieOptions = {
    httpOnly: true,
    sameSite: "lax" as const,
    secure: config.cookieSecure,
    path: "/",
  };
  const secret = config.sessionSecret;
  // Read as unknown and checked here rather than by a schema or Elysia's `sign` option: those
  // reject the whole request (422, or 401 for a bad signature), so a stale cookie (an old
  // SESSION_SECRET, another app's session_id, a JSON-looking value) would block /login and
  // /logout, and the browser could neither log in again nor get the cookie cleared.
  const cookieSchema = t.Cookie({
    session_id: t.Optional(t.Unknown({ description: "session id set by POST /login (signed when SESSION_SECRET is set)" })),
  });

  /** The session id the client sent: undefined when none, null when it cannot be one of ours. */
  const sessionIdOf = async (value: unknown): Promise<string | null | undefined> => {
    if (value === undefined || value === "") return undefined;
    if (typeof value !== "string" || value.length > MAX_COOKIE_LENGTH) return null;
    if (!secret) return value;
    const id = await unsignCookie(value, secret);
    return id === false ? null : id;
  };

  return new Elysia()
    .post("/login", async ({ body, cookie: { session_id }, request, server }) => {
      // The peer address: behind a Service or an ingress that is the node or the proxy, so the
      // budget is shared by its clients. X-Forwarded-For is not trusted: any client can send it.
      const retryAfter = attempts.take(server?.requestIP(request)?.address ?? "local");
      if (retryAfter > 0) {
        throw new HttpError(429, "too many login attempts", {
          detail: `at most ${config.loginRateLimit} per minute from one address (LOGIN_RATE_LIMIT)`,
          hint: `retry in ${retryAfter} s`,
          headers: { "retry-after": String(retryAfter) },
        });
      }
      const ok = await verifies.run(async () => authenticate(users, body.username, body.password, await dummy));
      if (ok === null) {
        throw new HttpError(429, "too many logins in progress", { hint: "retry in a second", headers: { "retry-after": "1" } });
      }
      if (!ok) {
        logger.info("login failed", { username: body.username.slice(0, 64) });
        throw unauthorized("invalid credentials");
      }
      // A new login ends the session the client had: an id that leaked before login (a shared
      // machine, a fixated cookie) stops working.
      const previous = await sessionIdOf(session_id.value);
      if (previous) await store.sessionDelete(previous);
      const id = randomBytes(32).toString("base64url");
      await store.sessionCreate(id, { username: body.username, createdAt: new Date().toISOString() }, config.sessionTtl);
      // Same format as Elysia's signed cookies (value.HMAC-SHA256), so cookies survive an upgrade.
      session_id.set({ value: secret ? await signCookie(id, secret) : id, maxAge: config.sessionTtl, ...cookieOptions });
      logger.info("login", { username: body.username });
      return { message: "logged in", username: body.username, server: deps.hostname, expires_in: config.sessionTtl };
    }, {
      parse: deadlineParser({ maxBytes: config.maxBodyBytes, timeoutSeconds: config.bodyTimeoutSeconds }),
      body: t.Object({
        username: t.String({ minLength: 1, maxLength: 128 }),
        password: t.String({ minLength: 1, maxLength: 1024 }),
      }),
      cookie: cookieSchema,
      detail: { tags, summary: "Log in: sets an HttpOnly session_id cookie" },
    })
    .get("/me", async ({ cookie: { session_id } }) => {
      const id = await sessionIdOf(session_id.value);
      if (id === undefined) throw notAuthenticated();
      if (id === null) throw sessionExpired();
      const session = await store.sessionGet(id);
      if (!session) throw sessionExpired();
      return { username: session.username, server: deps.hostname, logged_in_at: session.createdAt };
    }, { cookie: cookieSchema, detail: { tags, summary: "Who is logged in (any replica can answer)" } })
    .post("/logout", async ({ cookie: { session_id } }) => {
      const id = await sessionIdOf(session_id.value);
      if (id) await store.sessionDelete(id);
      session_id.remove();
      return { message: "logged out", server: deps.hostname };
    }, { cookie: cookieSchema, detail: { tags, summary: "Delete the session and clear the cookie" } });
};
