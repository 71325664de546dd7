#!/usr/bin/env bash
# TLS for compose/overlays/tls.yml: a local CA and a server certificate (openssl), and the nginx proxy image
# (Debian's nginx-light on the offline base image; run compose/offline-images/build.sh first).
#   compose/tls/setup.sh            files in ${STACK_DIR:-./.stack}/tls: ca.crt (trust this), server.crt/.key
#   TLS_HOSTNAMES="localhost mcp.example.internal" compose/tls/setup.sh   names the certificate covers
# Existing files are kept (delete the folder for new ones). The CA key never leaves that folder (mode 0700).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../offline-images/tags.env
source compose/offline-images/tags.env
DIR=${STACK_DIR:-./.stack}/tls
NAMES=${TLS_HOSTNAMES:-localhost}
say() { echo "[tls] $*"; }
fail() { echo "[tls] error: $*" >&2; exit 1; }
command -v openssl >/dev/null || fail "openssl is not installed (apt-get install openssl)"
mkdir -p "$DIR" && chmod 700 "$DIR"
if [ ! -f "$DIR/ca.crt" ]; then
  openssl req -x509 -newkey rsa:3072 -nodes -days 825 -subj "/CN=mcp-keycloak-stack local CA" \
    -keyout "$DIR/ca.key" -out "$DIR/ca.crt" 2>/dev/null
  say "created a local CA: $DIR/ca.crt (trust it in browsers; NODE_EXTRA_CA_CERTS=$DIR/ca.crt for Node)"
fi
if [ ! -f "$DIR/server.crt" ]; then
  san="IP:127.0.0.1"
  for n in $NAMES; do san="$san,DNS:$n"; done
  openssl req -newkey rsa:2048 -nodes -subj "/CN=${NAMES%% *}" -keyout "$DIR/server.key" -out "$DIR/server.csr" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$san" >"$DIR/server.ext"
  openssl x509 -req -in "$DIR/server.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" -CAcreateserial -days 397 \
    -extfile "$DIR/server.ext" -out "$DIR/server.crt" 2>/dev/null
  rm -f "$DIR/server.csr" "$DIR/server.ext"
  chmod 644 "$DIR/server.key" # read by nginx (user www-data) through the bind mount
  say "created $DIR/server.crt for: $san"
fi
docker info >/dev/null 2>&1 || fail "no Docker engine answers at ${DOCKER_HOST:-the default socket}"
docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || fail "$BASE_IMAGE is missing: run compose/offline-images/build.sh"
docker build -q --network host --build-arg "BASE=$BASE_IMAGE" -t "$PROXY_IMAGE" -f compose/tls/proxy.Dockerfile compose/tls >/dev/null
say "built $PROXY_IMAGE"
