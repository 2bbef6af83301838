# syntax=docker/dockerfile:1
# The `payroll` image for Kubernetes and Knative (k8s-fallback/): one static-ish binary that
# serves the API (`payroll serve`), runs the workers (`payroll worker`), the beat
# (`payroll scheduler`), migrations, backups and restores.
#
#   docker build -t auraconnect/payroll:dev .
#   docker run --rm -p 8000:8000 -e DATABASE_URL=... -e PAYROLL_JWT_SECRET=... \
#       -e PAYROLL_DATA_KEY=... auraconnect/payroll:dev            # = payroll serve
#
# Builder: the workspace's release profile (fat LTO, 1 codegen unit, stripped). Runtime:
# distroless cc (glibc, libgcc, CA certificates; no shell, no package manager), user 65532.

ARG RUST_VERSION=1.95.0

FROM rust:${RUST_VERSION}-slim-bookworm AS builder
WORKDIR /src
# Only what the build needs (see .dockerignore); Cargo.lock pins every dependency.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p payroll \
    && install -D -m 0755 target/release/payroll /out/payroll

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
LABEL org.opencontainers.image.title="payroll" \
      org.opencontainers.image.description="Payroll & Tax engine: API server, workers, scheduler, migrations, backups"
COPY --from=builder /out/payroll /usr/local/bin/payroll
USER 65532:65532
ENV PORT=8000 \
    RUST_LOG=info
EXPOSE 8000
# Kubernetes probes /health and /ready (the image has no shell or HTTP client for a HEALTHCHECK).
ENTRYPOINT ["/usr/local/bin/payroll"]
CMD ["serve"]
