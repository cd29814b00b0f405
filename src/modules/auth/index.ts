import { Elysia, t } from "elysia";
import { randomBytes } from "node:crypto";
import { authenticate } from "../../auth/users";
import type { AppDeps } from "../../deps";
import { HttpError } from "../../errors";

const tags = ["auth"];
export const SESSION_COOKIE = "session_id";

const notAuthenticated = () => new HttpError(401, { detail: "not authenticated" });
const sessionExpired = () => new HttpError(401, { detail: "session expired" });

/** Cookie sessions stored in the shared store, so any replica can answer /me. */
export const authModule = (deps: AppDeps) => {
  const { config, store, users, logger } = deps;
  const cookieOptions = {
    httpOnly: true,
    sameSite: "lax" as const,
    secure: config.cookieSecure,
    path: "/",
  };
  const cookieSchema = t.Cookie(
    { session_id: t.Optional(t.String({ maxLength: 512 })) },
    config.sessionSecret ? { secrets: config.sessionSecret, sign: [SESSION_COOKIE] } : {},
  );

  return new Elysia()
    .post("/login", async ({ body, cookie: { session_id } }) => {
      if (!(await authenticate(users, body.username, body.password))) {
        logger.info("login failed", { username: body.username.slice(0, 64) });
        throw new HttpError(401, { detail: "invalid credentials" });
      }
      const id = randomBytes(32).toString("base64url");
      await store.sessionCreate(id, { username: body.username, createdAt: new Date().toISOString() }, config.sessionTtl);
      session_id.set({ value: id, maxAge: config.sessionTtl, ...cookieOptions });
      logger.info("login", { username: body.username });
      return { message: "logged in", username: body.username, server: deps.hostname, expires_in: config.sessionTtl };
    }, {
      body: t.Object({
        username: t.String({ minLength: 1, maxLength: 128 }),
        password: t.String({ minLength: 1, maxLength: 1024 }),
      }),
      cookie: cookieSchema,
      detail: { tags, summary: "Log in: sets an HttpOnly session_id cookie" },
    })
    .get("/me", async ({ cookie: { session_id } }) => {
      const id = session_id.value;
      if (!id) throw notAuthenticated();
      const session = await store.sessionGet(id);
      if (!session) throw sessionExpired();
      return { username: session.username, server: deps.hostname, logged_in_at: session.createdAt };
    }, { cookie: cookieSchema, detail: { tags, summary: "Who is logged in (any replica can answer)" } })
    .post("/logout", async ({ cookie: { session_id } }) => {
      const id = session_id.value;
      if (id) await store.sessionDelete(id);
      session_id.remove();
      return { message: "logged out", server: deps.hostname };
    }, { cookie: cookieSchema, detail: { tags, summary: "Delete the session and clear the cookie" } });
};
