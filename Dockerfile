# kiln: one binary for the whole subnet (validator, miner, gateway, tools).
#   docker build -t kiln .                                   # CPU
#   docker build -t kiln:cuda --build-arg FEATURES=cuda \
#     --build-arg BUILD_IMAGE=nvidia/cuda:12.4.1-devel-ubuntu22.04 \
#     --build-arg RUNTIME_IMAGE=nvidia/cuda:12.4.1-runtime-ubuntu22.04 .   # GPUs
ARG BUILD_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILD_IMAGE} AS build
ARG FEATURES=""
# The CUDA build image has no Rust: install it there.
RUN command -v cargo >/dev/null || (apt-get update && apt-get install -y --no-install-recommends curl ca-certificates build-essential \
    && curl -sSf https://sh.rustup.rs | sh -s -- -y --default-toolchain 1.95.0 --profile minimal)
ENV PATH=/root/.cargo/bin:$PATH
WORKDIR /src
COPY . .
RUN FEATURES="${FEATURES}" deploy/build-release.sh \
    && install -m 0755 target/release/kiln /usr/local/bin/kiln

FROM ${RUNTIME_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/kiln --create-home kiln
COPY --from=build /usr/local/bin/kiln /usr/local/bin/kiln
USER kiln
WORKDIR /var/lib/kiln
ENTRYPOINT ["/usr/local/bin/kiln"]
CMD ["--help"]
