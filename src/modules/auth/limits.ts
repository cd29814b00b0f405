// Login throttles: a per-client attempt budget and a bound on concurrent password verifies
// (an argon2 verify holds its memory cost, 64 MiB by default, while it runs).

/** At most `perMinute` attempts per client over any minute, refilled continuously. */
export class RateLimiter {
  readonly #perMinute: number;
  readonly #maxClients: number;
  readonly #now: () => number;
  readonly #clients = new Map<string, { tokens: number; at: number }>();

  constructor(perMinute: number, options: { maxClients?: number; now?: () => number } = {}) {
    this.#perMinute = perMinute;
    this.#maxClients = options.maxClients ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Takes one attempt; returns 0 when allowed, else the seconds until the next one is. */
  take(client: string): number {
    const now = this.#now();
    const refillPerMs = this.#perMinute / 60_000;
    const entry = this.#clients.get(client);
    let tokens = this.#perMinute;
    if (entry) {
      tokens = Math.min(this.#perMinute, entry.tokens + (now - entry.at) * refillPerMs);
      this.#clients.delete(client); // re-inserted below: the Map's order is least recently seen first
    } else if (this.#clients.size >= this.#maxClients) {
      this.#clients.delete(this.#clients.keys().next().value!);
    }
    if (tokens < 1) {
      this.#clients.set(client, { tokens, at: now });
      return Math.ceil((1 - tokens) / refillPerMs / 1000);
    }
    this.#clients.set(client, { tokens: tokens - 1, at: now });
    return 0;
  }
}

/** Runs at most `concurrency` tasks at once and queues up to `maxQueued`; past that, run() answers null. */
export class ConcurrencyGate {
  readonly #concurrency: number;
  readonly #maxQueued: number;
  #running = 0;
  readonly #queue: Array<() => void> = [];

  constructor(concurrency: number, maxQueued: number) {
    this.#concurrency = concurrency;
    this.#maxQueued = maxQueued;
  }

  get running() {
    return this.#running;
  }

  async run<T>(task: () => Promise<T>): Promise<T | null> {
    if (this.#running >= this.#concurrency) {
      if (this.#queue.length >= this.#maxQueued) return null;
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      const next = this.#queue.shift();
      // The slot passes straight to the next waiter, so `running` never overshoots.
      if (next) next();
      else this.#running--;
    }
  }
}
