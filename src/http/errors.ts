// The one error contract: every 4xx/5xx body the service sends is an ErrorBody.
// `error` is a short, stable sentence; `detail` says what exactly was wrong (FastAPI's field, so
// old clients of the auth routes keep working); `hint` says what to do about it.

export interface ErrorBody {
  error: string;
  detail?: unknown;
  hint?: string;
}

export interface HttpErrorOptions {
  detail?: unknown;
  hint?: string;
  /** Extra response headers, e.g. x-fault-injected. */
  headers?: Record<string, string>;
}

/** Thrown by modules and the HTTP layer; rendered by the layer's error handler. */
export class HttpError extends Error {
  readonly body: ErrorBody;
  readonly headers: Record<string, string> | undefined;

  constructor(
    readonly status: number,
    error: string,
    options: HttpErrorOptions = {},
  ) {
    super(error);
    this.name = "HttpError";
    this.body = { error };
    if (options.detail !== undefined) this.body.detail = options.detail;
    if (options.hint !== undefined) this.body.hint = options.hint;
    this.headers = options.headers;
  }
}

export const REDIS_UNAVAILABLE: ErrorBody = { error: "redis unavailable" };

/** One 422 in the shape Elysia's validation errors are rendered in: detail is a list of {path, message}. */
export function invalidRequest(path: string, message: string): HttpError {
  return new HttpError(422, "invalid request", { detail: [{ path, message }] });
}
