# PostgreSQL 15 from Debian bookworm on the offline base image, for docker-compose.production.yml (Keycloak's
# database). Data in /var/lib/postgresql/data (a volume); the entrypoint creates the cluster, the `keycloak` role
# (password from a secret file) and its database on the first start only.
ARG BASE
FROM ${BASE}
RUN set -eux; \
    mkdir -p /etc/postgresql-common; \
    # No cluster at install time: the entrypoint makes one in the volume, with our settings.
    echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf; \
    apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15; \
    rm -rf /var/lib/apt/lists/*; \
    mkdir -p /var/lib/postgresql/data /run/postgresql; \
    chown -R postgres:postgres /var/lib/postgresql /run/postgresql; \
    chmod 700 /var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data/pgdata
USER postgres
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
