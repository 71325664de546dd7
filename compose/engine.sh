#!/usr/bin/env bash
# A Docker engine of our own for `npm run test:compose`: Debian's dockerd on its own socket and data root, so it
# never touches (or depends on) a system engine. Images stay in the data root between runs (the build cache).
#   compose/engine.sh start   start it unless it already answers; prints DOCKER_HOST=… on the last line
#   compose/engine.sh stop    stop the dockerd this script started (by its pid file)
# Knobs: MCPKS_DOCKER_RUN (socket, pid, exec root; /tmp/mcpks-docker), MCPKS_DOCKER_DATA (data root;
# ~/.cache/mcp-keycloak-stack/docker), MCPKS_DOCKER_POOL (networks; 172.31.0.0/17), MCPKS_DOCKER_BIP.
set -euo pipefail
RUN_DIR=${MCPKS_DOCKER_RUN:-/tmp/mcpks-docker}
DATA=${MCPKS_DOCKER_DATA:-${STACK_CACHE_DIR:-$HOME/.cache/mcp-keycloak-stack}/docker}
SOCK=$RUN_DIR/docker.sock
export DOCKER_HOST=unix://$SOCK
say() { echo "[engine] $*" >&2; }
fail() { echo "[engine] error: $*" >&2; exit 1; }

case "${1:-start}" in
  start)
    if docker info >/dev/null 2>&1; then say "reusing the engine at $SOCK"; echo "DOCKER_HOST=$DOCKER_HOST"; exit 0; fi
    command -v dockerd >/dev/null || fail "dockerd is not installed: apt-get install docker.io (Debian's engine)"
    command -v docker >/dev/null || fail "the docker client is not installed: apt-get install docker.io"
    [ "$(id -u)" -eq 0 ] || fail "dockerd needs root here (run as root, or start an engine yourself and set DOCKER_HOST)"
    mkdir -p "$RUN_DIR" "$DATA"
    say "starting dockerd on $SOCK (data root $DATA, log $RUN_DIR/dockerd.log)"
    nohup dockerd --host "$DOCKER_HOST" --data-root "$DATA" --exec-root "$RUN_DIR/exec" \
      --pidfile "$RUN_DIR/dockerd.pid" --bip "${MCPKS_DOCKER_BIP:-172.31.250.1/24}" \
      --default-address-pool "base=${MCPKS_DOCKER_POOL:-172.31.0.0/17},size=24" \
      >"$RUN_DIR/dockerd.log" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 1 60); do
      if docker info >/dev/null 2>&1; then say "engine ready ($(docker version --format '{{.Server.Version}}'))"; echo "DOCKER_HOST=$DOCKER_HOST"; exit 0; fi
      if ! kill -0 "$pid" 2>/dev/null; then
        fail "dockerd exited during start-up; last lines of $RUN_DIR/dockerd.log:
$(tail -15 "$RUN_DIR/dockerd.log")"
      fi
      sleep 1
    done
    fail "dockerd did not answer within 60s; last lines of $RUN_DIR/dockerd.log:
$(tail -15 "$RUN_DIR/dockerd.log")"
    ;;
  stop)
    if [ -f "$RUN_DIR/dockerd.pid" ] && kill -0 "$(cat "$RUN_DIR/dockerd.pid")" 2>/dev/null; then
      kill "$(cat "$RUN_DIR/dockerd.pid")"; say "stopped dockerd (pid $(cat "$RUN_DIR/dockerd.pid"))"
    else
      say "no dockerd of ours is running"
    fi
    ;;
  *) fail "usage: compose/engine.sh start|stop" ;;
esac
