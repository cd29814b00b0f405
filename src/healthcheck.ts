/** `bun-k8s healthcheck`: for Docker HEALTHCHECK and exec probes in an image with no curl. */
export async function healthcheck(port: number, timeoutMs = 2000): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.status === 200 ? 0 : 1;
  } catch {
    return 1;
  }
}
