# Easel's container image: the web client built on a Node stage, the release binary on a
# Rust stage (dependencies in their own layer, so a change to Easel's code rebuilds only
# Easel), and a small Debian runtime running as a non-root user.
#
#   docker build -t easel .
#   docker run -p 8080:8080 -e EASEL_JWT_SECRET=$(openssl rand -hex 32) \
#     -e DATABASE_URL=postgres://… easel
#
# Base images are build arguments, so a build can use locally made ones. Behind an HTTPS
# proxy with its own CA, pass the CA bundle as a build secret (never baked into the image):
#   docker build --secret id=ca_bundle,src=/etc/ssl/certs/ca-certificates.crt .
# Needs BuildKit (DOCKER_BUILDKIT=1 on Docker 20.10; the default since 23.0).

ARG NODE_IMAGE=node:22-bookworm
ARG RUST_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---- the browser client: web/dist ------------------------------------------------------
FROM ${NODE_IMAGE} AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    --mount=type=secret,id=ca_bundle,target=/run/secrets/ca_bundle \
    if [ -s /run/secrets/ca_bundle ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca_bundle; fi; \
    npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run build

# ---- the server: target/release/easel --------------------------------------------------
FROM ${RUST_IMAGE} AS server
WORKDIR /src
# Dependencies first, against stub sources: this layer is reused until Cargo.toml or
# Cargo.lock change. Every workspace member's targets need a file, or cargo refuses the
# workspace.
COPY Cargo.toml Cargo.lock ./
COPY server/Cargo.toml server/
COPY tests/Cargo.toml tests/
COPY bench/clients/Cargo.toml bench/clients/
RUN for f in server/src/main.rs server/src/lib.rs tests/src/lib.rs \
        bench/clients/src/main.rs bench/clients/src/floor.rs bench/clients/src/relay.rs \
        bench/clients/src/actix_floor.rs; do \
      mkdir -p "$(dirname "$f")" && echo 'fn main() {}' > "$f"; \
    done
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=secret,id=ca_bundle,target=/run/secrets/ca_bundle \
    if [ -s /run/secrets/ca_bundle ]; then export CARGO_HTTP_CAINFO=/run/secrets/ca_bundle; fi; \
    cargo build --release --locked -p easel
# Then Easel itself (the migrations are compiled into the binary). The touch makes cargo
# see the real sources as newer than the stubs it just built.
COPY server/ server/
COPY migrations/ migrations/
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    touch server/src/main.rs server/src/lib.rs && \
    cargo build --release --locked -p easel --bin easel && \
    strip target/release/easel

# ---- the runtime -----------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}
RUN groupadd --system --gid 10001 easel && \
    useradd --system --uid 10001 --gid easel --home-dir /var/lib/easel --shell /usr/sbin/nologin easel && \
    install -d -m 700 -o easel -g easel /var/lib/easel
COPY --from=server /src/target/release/easel /usr/local/bin/easel
COPY --from=web /src/web/dist /usr/share/easel/web
# Production: a JWT secret is required and weak ones are refused, logs are JSON lines.
# With no DATABASE_URL the embedded SQLite file lives in /var/lib/easel (mount a volume).
ENV EASEL_ENV=production \
    EASEL_BIND=0.0.0.0:8080 \
    EASEL_WEB_DIR=/usr/share/easel/web \
    EASEL_DATA_DIR=/var/lib/easel
USER easel:easel
WORKDIR /var/lib/easel
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 CMD ["easel", "health"]
# SIGTERM starts a graceful shutdown: sockets get 1001 and every accepted edit is saved
# within EASEL_SHUTDOWN_TIMEOUT_SECS (30 s by default; give `docker stop` a longer grace).
STOPSIGNAL SIGTERM
ENTRYPOINT ["easel"]
CMD ["serve"]
