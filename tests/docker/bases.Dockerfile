# Local stand-ins for the public base images the Dockerfile and docker-compose.yml name
# (rust:1-bookworm, node:22-bookworm, postgres:17, nginx, caddy), for machines that reach no image
# registry. Built by tests/docker/make-bases from easel-local/debian:bookworm (a debootstrap
# of Debian bookworm imported into Docker) and the host's own Rust toolchain and Node.js,
# which arrive as named build contexts' files under /toolchains in the context. Test-only:
# the published image is always built on the public defaults.

ARG BASE_IMAGE=easel-local/debian:bookworm

FROM ${BASE_IMAGE} AS apt
RUN apt-get update -qq

# rust:1-bookworm's layout: cargo and rustc on PATH, CARGO_HOME=/usr/local/cargo.
FROM apt AS rust
RUN DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null
COPY toolchains/rust/ /usr/local/rust/
ENV CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /usr/local/cargo/bin && cargo --version && rustc --version

# node:22-bookworm's essentials: node and npm on PATH.
FROM ${BASE_IMAGE} AS node
COPY toolchains/node/bin/node /usr/local/bin/node
COPY toolchains/node/npm/ /usr/local/lib/node_modules/npm/
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && node --version && npm --version

# postgres:17's contract: POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB make the
# cluster at first start, in PGDATA=/var/lib/postgresql/data; pg_isready on PATH.
FROM apt AS postgres
RUN DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PGDATA=/var/lib/postgresql/data \
    PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["postgres-entrypoint"]

# nginx's: the server in the foreground, sites from /etc/nginx/conf.d/*.conf.
FROM apt AS nginx
RUN DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null && \
    rm -f /etc/nginx/sites-enabled/default && \
    ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
STOPSIGNAL SIGQUIT
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]

# caddy's: the server in the foreground on /etc/caddy/Caddyfile.
FROM apt AS caddy
RUN DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends caddy >/dev/null
EXPOSE 80 443
CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
