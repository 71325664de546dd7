# Keycloak for docker-compose.production.yml: the stack's Keycloak image (dist + the DCR policy provider) built
# again for production — PostgreSQL, distributed caches (Infinispan; nodes find each other through the database,
# JDBC_PING, Keycloak's default cache stack since 26.1), health and metrics — plus psql, with which the entrypoint
# checks the database login before Keycloak starts and names what is wrong.
ARG KEYCLOAK_IMAGE
FROM ${KEYCLOAK_IMAGE}
USER root
RUN set -eux; \
    apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-client-15; \
    rm -rf /var/lib/apt/lists/*
COPY keycloak-entrypoint.sh /opt/keycloak/bin/production-entrypoint.sh
USER 1000
# The experimental client ID metadata documents as in the base image (docs/cimd.md).
ENV KC_DB=postgres KC_CACHE=ispn KC_HEALTH_ENABLED=true KC_METRICS_ENABLED=true KC_FEATURES=cimd
RUN /opt/keycloak/bin/kc.sh build
# The base image's class-data archive was recorded for its own build (dev-file, local caches): this build's
# classes differ, so the JVM would refuse it with a warning at every start. Recording one needs a database at
# build time; not done here.
ENV JAVA_OPTS_APPEND= KEYCLOAK_CDS_ARCHIVE=
ENTRYPOINT ["/opt/keycloak/bin/production-entrypoint.sh"]
