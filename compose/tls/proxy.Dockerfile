# The TLS proxy of compose/overlays/tls.yml: nginx-light from Debian, on the offline base image.
ARG BASE
FROM ${BASE}
RUN set -eux; \
    apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light; \
    rm -rf /var/lib/apt/lists/*; nginx -v
USER www-data
EXPOSE 8443 3443
CMD ["nginx", "-g", "daemon off;", "-c", "/etc/nginx/tls-proxy.conf"]
