# quay.io/keycloak/keycloak compatible: the Maven dist in /opt/keycloak, kc.sh as the entrypoint, user 1000,
# already built (kc.sh build) with the options docker-compose.yml starts it with, so `start --optimized` works.
ARG BASE
FROM ${BASE}
RUN set -eux; \
    apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless; \
    rm -rf /var/lib/apt/lists/*; \
    groupadd --gid 1000 keycloak; \
    useradd --uid 1000 --gid 0 --no-create-home --home-dir /opt/keycloak keycloak
ARG KEYCLOAK_VERSION
ADD keycloak.tar.gz /opt/
RUN set -eux; \
    mv /opt/keycloak-${KEYCLOAK_VERSION} /opt/keycloak; \
    mkdir -p /opt/keycloak/data/import /opt/keycloak/data/h2; \
    chown -R 1000:0 /opt/keycloak; chmod -R g+rwX /opt/keycloak
# The realm's anonymous-DCR policy provider (built by build.sh), in place before `kc.sh build` registers it.
COPY --chown=1000:0 providers/ /opt/keycloak/providers/
USER 1000
# Build-time options (the same as compose/native/keycloakDist.ts): embedded file database, local caches,
# health and metrics on the management port 9000, and the experimental client ID metadata documents (docs/cimd.md).
ENV KC_DB=dev-file KC_CACHE=local KC_HEALTH_ENABLED=true KC_METRICS_ENABLED=true KC_FEATURES=cimd
RUN /opt/keycloak/bin/kc.sh build
EXPOSE 8080 9000
ENTRYPOINT ["/opt/keycloak/bin/kc.sh"]
