#!/usr/bin/env bash
# Docker Compose v2 (what the README tells users to type: `docker compose`) for the compose tests, built from
# source fetched through the Go module proxy this machine's `go` is configured for — no container registry, no
# download from a website. `go install` refuses the module (its go.mod has exclude directives), so the module's
# source is copied out of the module cache and built there (`go build ./cmd`, ≈ 3 min on 2 cores).
# Installed as a CLI plugin in a Docker config folder of its own inside the cache, so the user's ~/.docker is
# never touched: DOCKER_CONFIG=<printed folder> docker compose version. Cached: later runs take a second.
set -euo pipefail
VERSION=${COMPOSE_V2_VERSION:-v2.40.3}
CACHE=${STACK_CACHE_DIR:-$HOME/.cache/mcp-keycloak-stack}
CONFIG_DIR="$CACHE/compose-$VERSION"
PLUGIN="$CONFIG_DIR/cli-plugins/docker-compose"
say() { echo "[compose-v2] $*"; }

if [ -x "$PLUGIN" ] && "$PLUGIN" version >/dev/null 2>&1; then
  say "cached: $PLUGIN"
  echo "DOCKER_CONFIG=$CONFIG_DIR"
  exit 0
fi
command -v go >/dev/null || { say "Go is needed to build Docker Compose $VERSION (apt-get install golang-go)"; exit 1; }

say "fetching github.com/docker/compose/v2@$VERSION through the Go module proxy …"
src=$(go mod download -json "github.com/docker/compose/v2@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$src" ] && [ -d "$src" ] || { say "go mod download gave no source folder for $VERSION"; exit 1; }

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -r "$src/." "$work/"
chmod -R u+w "$work"
say "building (≈ 3 min on 2 cores; dependencies come through the same proxy) …"
mkdir -p "$(dirname "$PLUGIN")"
log="$CONFIG_DIR/build.log"
# go lists every module it downloads (hundreds of lines): kept in the log, shown only when the build fails.
if ! (
  cd "$work"
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
    -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$VERSION" \
    -o "$PLUGIN.partial" ./cmd
) >"$log" 2>&1; then
  tail -n 30 "$log"
  say "the build failed; whole log: $log"
  exit 1
fi
mv "$PLUGIN.partial" "$PLUGIN"
say "built: $("$PLUGIN" version)"
echo "DOCKER_CONFIG=$CONFIG_DIR"
