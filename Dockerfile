# syntax=docker/dockerfile:1
# Multi-stage build: compile in the Rust image, run in a slim Debian as a non-root user.
FROM rust:1-bookworm AS build
WORKDIR /src
# Debian's security updates are wanted, so the packages are not pinned (the base image is)
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock build.rs ./
COPY src src
COPY migrations migrations
COPY openapi openapi
RUN cargo build --release --locked && strip target/release/boligsocial

FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/boligsocial --create-home boligsocial
COPY --from=build /src/target/release/boligsocial /usr/local/bin/boligsocial
USER 10001
WORKDIR /var/lib/boligsocial
ENV BOLIGSOCIAL__SERVER__LISTEN=0.0.0.0:8080 \
    BOLIGSOCIAL__LOG__FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 CMD ["boligsocial", "probe", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["boligsocial"]
CMD ["serve"]
