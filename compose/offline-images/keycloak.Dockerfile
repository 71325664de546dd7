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
# A class-data sharing archive of what one Keycloak start loads (as the native launcher keeps one,
# compose/native/classDataSharing.ts): recorded here by starting this very build once on a scratch database
# until it is ready, then stopping it (the JVM writes the archive at exit); the scratch data is removed. Every
# start of the image maps it in instead of loading and verifying those classes again (docs/compose.md,
# "Start-up time"). `java -Xshare:on` checks that it maps, as the native launcher checks its own. A
# JAVA_OPTS_APPEND of your own replaces this one: add its -XX option to keep the archive.
ENV KEYCLOAK_CDS_ARCHIVE=/opt/keycloak/lib/keycloak-cds.jsa
RUN set -eu; \
    JAVA_OPTS_APPEND="-XX:ArchiveClassesAtExit=$KEYCLOAK_CDS_ARCHIVE -Xlog:cds=error,cds+dynamic=error" \
      /opt/keycloak/bin/kc.sh start --optimized --http-enabled=true --hostname=http://localhost:8080 \
      >/tmp/cds-recording.log 2>&1 & pid=$!; \
    ready() { bash -c 'exec 3<>/dev/tcp/127.0.0.1/9000 && printf "GET /health/ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" >&3 && read -r status <&3 && [[ $status == *" 200 "* ]]' 2>/dev/null; }; \
    i=0; until ready; do \
      i=$((i + 1)); \
      if [ "$i" -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then \
        echo "Keycloak did not get ready to record the class-data archive; its log:" >&2; cat /tmp/cds-recording.log >&2; exit 1; \
      fi; \
      sleep 1; \
    done; \
    kill -TERM "$pid"; wait "$pid" || true; \
    if [ ! -s "$KEYCLOAK_CDS_ARCHIVE" ]; then \
      echo "no class-data archive was written; Keycloak's log:" >&2; cat /tmp/cds-recording.log >&2; exit 1; \
    fi; \
    java "-XX:SharedArchiveFile=$KEYCLOAK_CDS_ARCHIVE" -Xshare:on -cp /opt/keycloak/lib/quarkus-run.jar -version; \
    rm -rf /opt/keycloak/data/h2/* /opt/keycloak/data/tmp /tmp/cds-recording.log; \
    echo "class-data archive: $(du -h "$KEYCLOAK_CDS_ARCHIVE" | cut -f1)"
ENV JAVA_OPTS_APPEND="-XX:SharedArchiveFile=${KEYCLOAK_CDS_ARCHIVE}"
EXPOSE 8080 9000
ENTRYPOINT ["/opt/keycloak/bin/kc.sh"]
