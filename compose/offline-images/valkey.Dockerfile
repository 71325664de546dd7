# valkey/valkey:8 compatible: valkey-server and valkey-cli (Debian bookworm-backports), data in /data.
ARG BASE
FROM ${BASE}
# bookworm-backports from the mirror the base root filesystem was bootstrapped from (no host name here).
RUN set -eux; \
    uri=$(awk '$1=="deb" && $3=="bookworm" { print $2; exit }' /etc/apt/sources.list); \
    echo "deb $uri bookworm-backports main" > /etc/apt/sources.list.d/backports.list; \
    apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t bookworm-backports valkey-server; \
    rm -rf /var/lib/apt/lists/* /etc/apt/sources.list.d/backports.list; \
    mkdir -p /data && chown valkey:valkey /data; \
    valkey-server --version
WORKDIR /data
USER valkey
EXPOSE 6379
CMD ["valkey-server"]
