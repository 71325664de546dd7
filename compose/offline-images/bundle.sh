#!/usr/bin/env bash
# The air-gap bundle: every image docker-compose.yml uses, in one `docker save` file, and its import on the
# closed site (where `docker compose up --no-build` then needs nothing else).
#   compose/offline-images/bundle.sh save [FILE]   default FILE: mcp-keycloak-stack-images.tar (+ .sha256)
#   compose/offline-images/bundle.sh load [FILE]   verifies the checksum, loads, and checks every tag is there
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tags.env
source "$HERE/tags.env"
IMAGES=("$KEYCLOAK_IMAGE" "$VALKEY_IMAGE" "$SEED_IMAGE" "$MCP_SERVER_IMAGE")
FILE=${2:-mcp-keycloak-stack-images.tar}
say() { echo "[bundle] $*"; }
fail() { echo "[bundle] error: $*" >&2; exit 1; }
docker info >/dev/null 2>&1 || fail "no Docker engine answers at ${DOCKER_HOST:-the default socket}"

case "${1:-}" in
  save)
    for image in "${IMAGES[@]}"; do
      docker image inspect "$image" >/dev/null 2>&1 || fail "$image is missing: run compose/offline-images/build.sh first"
    done
    docker save -o "$FILE.tmp" "${IMAGES[@]}" && mv "$FILE.tmp" "$FILE"
    (cd "$(dirname "$FILE")" && sha256sum "$(basename "$FILE")" >"$(basename "$FILE").sha256")
    say "saved ${IMAGES[*]} to $FILE ($(du -m "$FILE" | cut -f1) MB) and $FILE.sha256"
    ;;
  load)
    [ -f "$FILE" ] || fail "$FILE does not exist"
    if [ -f "$FILE.sha256" ]; then
      (cd "$(dirname "$FILE")" && sha256sum --quiet -c "$(basename "$FILE").sha256") || fail "$FILE does not match $FILE.sha256 (damaged copy?)"
    fi
    docker load -q -i "$FILE"
    for image in "${IMAGES[@]}"; do
      docker image inspect "$image" >/dev/null 2>&1 || fail "$FILE did not contain $image"
    done
    say "loaded ${IMAGES[*]}"
    ;;
  *) fail "usage: bundle.sh save|load [FILE]" ;;
esac
