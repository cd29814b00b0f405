/** An error with a status and a JSON body, thrown by modules and rendered by the app's onError. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.error ?? body.detail ?? status));
    this.name = "HttpError";
  }
}

export const REDIS_UNAVAILABLE = { error: "redis unavailable" } as const;
