// GET /chunked/:seconds: one NDJSON line now and one per second after, as a chunked response.
const encoder = new TextEncoder();

/**
 * seconds + 1 chunks, at t = 0, 1, ..., seconds. Pull-based: nothing is scheduled beyond the
 * next chunk, and a client that goes away cancels the stream.
 */
export function chunkedStream(seconds: number, server: string, intervalMs = 1000): ReadableStream<Uint8Array> {
  const start = performance.now();
  let index = 0;
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const due = start + index * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      if (cancelled) return;
      const line = { chunk: index + 1, of: seconds + 1, elapsed_ms: Math.round(performance.now() - start), server };
      controller.enqueue(encoder.encode(JSON.stringify(line) + "\n"));
      index++;
      if (index > seconds) controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
}
