// The bare compiled Bun.serve binary `bun run bench` measures start-up and idle RSS against: no
// framework, no dependencies, one route. Compiled with the same flags as bun-k8s (scripts/lib/build.ts).
//
//   PORT=8001 ./bare    answers GET /ready; writes nothing (a first process.stdout write costs ms and MiB)
const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  routes: { "/ready": () => Response.json({ status: "ready" }) },
  fetch: () => Response.json({ error: "not found" }, { status: 404 }),
});
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
