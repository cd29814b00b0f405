# bun-k8s: one self-contained executable on a distroless, non-root, shell-less base.
#
#   podman build --format docker -t bun-k8s \
#     --build-arg VERSION=$(jq -r .version package.json) --build-arg REVISION=$(git rev-parse --short HEAD) .
#   (docker build works the same; --format docker keeps HEALTHCHECK, which the OCI format drops)
#
# Both base images are arguments, so an offline or mirrored build can swap them
# (`bun run test:image` builds local equivalents from Debian packages and passes them here).
ARG BUN_IMAGE=oven/bun:1.4.4-debian
ARG RUNTIME_IMAGE=gcr.io/distroless/base-debian12:nonroot

# ---- build: bun install, then bun build --compile --------------------------------------------
FROM ${BUN_IMAGE} AS build
WORKDIR /src
# Dependency layer first: reused until package.json or bun.lock change. Only runtime
# dependencies are bundled, so devDependencies (typescript, playwright-core, ...) are skipped.
COPY package.json bun.lock bunfig.toml ./
RUN ["bun", "install", "--frozen-lockfile", "--production", "--ignore-scripts"]
# Sources last: a code change rebuilds only the layers from here on.
COPY tsconfig.json ./
COPY scripts/build.ts ./scripts/build.ts
COPY scripts/lib/build.ts scripts/lib/repo.ts ./scripts/lib/
COPY src ./src
# No .git in the context: the revision comes in as an argument.
ARG REVISION=unknown
ENV BUILD_REVISION=${REVISION}
RUN ["bun", "run", "scripts/build.ts", "--outfile=/out/bun-k8s"]

# ---- runtime: glibc, CA certificates, tzdata, passwd with nonroot; no shell --------------------
FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=
LABEL org.opencontainers.image.title="bun-k8s" \
      org.opencontainers.image.description="A teaching and demo workload for Kubernetes: Elysia on Bun, one binary, distroless image" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
# Owned by root, so the service (uid 65532) cannot modify its own executable.
COPY --from=build /out/bun-k8s /app/bun-k8s
USER 65532:65532
WORKDIR /home/nonroot
EXPOSE 8000
# Exec form: no shell exists. The subcommand GETs /health on localhost:$PORT (exit 0 or 1).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/app/bun-k8s", "healthcheck"]
# The binary is PID 1 and handles SIGTERM itself: readiness 503, drain, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/bun-k8s"]
