#!/usr/bin/env bash
# Everything docker-compose.production.yml needs before its first `up`, from package mirrors only:
#   1. the images (compose/offline-images/build.sh, then PostgreSQL, Keycloak for production, the nginx proxy);
#   2. the secrets, one file each in ${STACK_DIR:-./.stack}/secrets (folder 0700): postgres_password,
#      keycloak_admin_password, valkey_password — random unless the file exists (yours are kept);
#   3. TLS: compose/tls/setup.sh (a local CA; or put your own CA's server.crt/server.key in .stack/tls first).
# Re-running keeps every existing secret, certificate and unchanged image.
#   TLS_HOSTNAMES="localhost mcp.example.internal" compose/production/setup.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../offline-images/tags.env
source compose/offline-images/tags.env
say() { echo "[production] $*"; }
fail() { echo "[production] error: $*" >&2; exit 1; }
STACK=${STACK_DIR:-./.stack}
CACHE=${STACK_CACHE_DIR:-$HOME/.cache/mcp-keycloak-stack}/offline-images

docker info >/dev/null 2>&1 || fail "no Docker engine answers at ${DOCKER_HOST:-the default socket}; start one or set DOCKER_HOST"
command -v openssl >/dev/null || fail "openssl is not installed (apt-get install openssl)"

# 2. Secrets. The folder is the guard (0700, yours); the files are world-readable inside it because compose
# bind-mounts them unchanged into containers that run as different users (keycloak 1000, postgres, valkey).
mkdir -p "$STACK/secrets" && chmod 700 "$STACK/secrets"
for name in postgres_password keycloak_admin_password valkey_password; do
  file=$STACK/secrets/$name
  if [ ! -s "$file" ]; then
    # 32 letters and digits: valid for Valkey's requirepass, PostgreSQL, Keycloak's password policy and URLs.
    (umask 022 && openssl rand -hex 16 | tr -d '\n' >"$file")
    say "created $file"
  fi
  chmod 444 "$file"
done

# 1. Images.
bash compose/offline-images/build.sh
build() {
  local tag=$1 log
  shift
  log=$CACHE/build-$(echo "$tag" | tr '/:' '__').log
  DOCKER_BUILDKIT=0 docker build --network host -t "$tag" "$@" >"$log" 2>&1 ||
    fail "docker build $tag failed; last lines of $log:
$(tail -20 "$log")"
  say "built $tag"
}
# Both rebuilt every time, so a changed entrypoint, base image or DCR policy jar reaches an existing install:
# docker's layer cache makes an unchanged rebuild take seconds.
build "$POSTGRES_IMAGE" --build-arg "BASE=$BASE_IMAGE" -f compose/production/postgres.Dockerfile compose/production
build "$KEYCLOAK_PRODUCTION_IMAGE" --build-arg "KEYCLOAK_IMAGE=$KEYCLOAK_IMAGE" \
  -f compose/production/keycloak.Dockerfile compose/production

# 3. TLS certificates and the proxy image.
bash compose/tls/setup.sh
say "ready: docker compose -f docker-compose.production.yml up -d (docs/production.md)"
