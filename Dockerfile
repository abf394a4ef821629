# syntax=docker/dockerfile:1
#
# chaos-gate container image: one static (musl) binary at /chaos-gate.
#
# Targets:
#   runtime (the default, last stage): FROM scratch, only the binary and a CA
#     bundle. Published as ghcr.io/chaos-gate/chaos-gate:vX.Y.Z (and the moving
#     :v0, which no integration relies on); used by the container action
#     (docker/action.yml), Harness CI / Drone plugin steps, `docker run`.
#   shell: the same binary on Alpine, for hosts that need a shell inside the
#     job image (GitLab CI runs `script:` through one). Published with a
#     `-shell` suffix: :vX.Y.Z-shell and :v0-shell.
#
#   docker build -t chaos-gate .                 # runtime
#   docker build --target shell -t chaos-gate:shell .
#
# The builder compiles for the architecture it runs on (x86_64 or aarch64),
# so `docker buildx build --platform linux/amd64,linux/arm64` produces a
# multi-arch image (arm64 under QEMU emulation on an amd64 machine).

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS builder

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# musl-tools provides musl-gcc, which the C parts of the TLS stack (ring) are
# compiled with for the *-unknown-linux-musl targets.
# Debian package versions are not pinned: the stable release's versions
# change with point releases and old ones disappear from the mirrors, which
# would break the build; the base image tag fixes the release instead.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools \
    && rm -rf /var/lib/apt/lists/*

RUN rustup target add "$(uname -m)-unknown-linux-musl"

WORKDIR /src
COPY . .

# The cache mounts keep downloaded crates and build outputs between local
# builds; the target cache is per architecture because build scripts are
# compiled for the (possibly emulated) build machine.
ARG TARGETARCH
RUN --mount=type=cache,id=cargo-registry,target=/usr/local/cargo/registry \
    --mount=type=cache,id=cargo-target-${TARGETARCH},target=/src/target \
    target="$(uname -m)-unknown-linux-musl" \
    && cargo build --release --locked --target "$target" -p chaos-gate \
    && mkdir -p /out \
    && cp "target/$target/release/chaos-gate" /out/chaos-gate \
    && strip /out/chaos-gate

# ---------------------------------------------------------------------------
FROM alpine:3.22 AS shell

ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="chaos-gate" \
      org.opencontainers.image.description="Gate a deploy on a chaos experiment (Harness Chaos Engineering, LitmusChaos); image with a shell for GitLab CI" \
      org.opencontainers.image.source="https://github.com/chaos-gate/chaos-gate" \
      org.opencontainers.image.url="https://github.com/chaos-gate/chaos-gate" \
      org.opencontainers.image.documentation="https://github.com/chaos-gate/chaos-gate#readme" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

COPY --from=builder /out/chaos-gate /chaos-gate
RUN ln -s /chaos-gate /usr/local/bin/chaos-gate
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
ENTRYPOINT ["/chaos-gate"]

# ---------------------------------------------------------------------------
FROM scratch AS runtime

ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="chaos-gate" \
      org.opencontainers.image.description="Gate a deploy on a chaos experiment (Harness Chaos Engineering, LitmusChaos)" \
      org.opencontainers.image.source="https://github.com/chaos-gate/chaos-gate" \
      org.opencontainers.image.url="https://github.com/chaos-gate/chaos-gate" \
      org.opencontainers.image.documentation="https://github.com/chaos-gate/chaos-gate#readme" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /out/chaos-gate /chaos-gate
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt

# No USER: GitHub runs container actions as root and the workspace is owned
# by the runner; hosts that want another user pass --user.
ENTRYPOINT ["/chaos-gate"]
