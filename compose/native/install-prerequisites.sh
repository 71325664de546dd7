#!/usr/bin/env bash
# Installs what the native stack needs on Debian 12 (bookworm), from the machine's own configured mirrors:
#   Valkey 8 (valkey-server from bookworm-backports; redis-server from main as the fallback),
#   a JDK 17+ and Maven (only when missing); for npm test also Chromium, Python's venv, slapd and ldap-utils. Safe to run again: it installs only what is missing.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-prerequisites: run as root or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi
say() { echo "[prerequisites] $*"; }
# shellcheck source=../debian-mirror.sh
. "$(dirname "${BASH_SOURCE[0]}")/../debian-mirror.sh"
have() { command -v "$1" >/dev/null 2>&1; }

# bookworm-backports from the same mirror the host already uses (never a hard-coded host).
add_backports() {
  if grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then return 0; fi
  local uri
  uri=$(debian_mirror)
  if [ -z "$uri" ]; then
    say "no bookworm mirror found in the apt sources; skipping backports"
    return 1
  fi
  say "adding bookworm-backports from the configured mirror"
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
}

packages=()
updated=0
apt_update() { if [ "$updated" -eq 0 ]; then say "apt-get update"; $SUDO apt-get update -qq; updated=1; fi; }

if ! have valkey-server && ! have redis-server; then
  if add_backports; then
    apt_update
    # Captured first: with pipefail, `grep -q` closing the pipe early would fail the whole test.
    policy=$(apt-cache policy valkey-server 2>/dev/null || true)
    if [[ "$policy" == *"Candidate: "[0-9]* ]]; then
      say "installing valkey-server from bookworm-backports"
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports valkey-server >/dev/null
    fi
  fi
  if ! have valkey-server; then
    apt_update
    say "valkey-server unavailable; installing redis-server (same protocol) as the fallback"
    packages+=(redis-server)
  fi
fi
have java || packages+=(openjdk-17-jdk-headless)
have mvn || packages+=(maven)
# The client tests (mcp-server/test/clients) drive the browser console and the clients' login step in Debian's
# headless Chromium; the FastMCP client test needs Python 3 with venv.
have chromium || packages+=(chromium)
have python3 || packages+=(python3)
python3 -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3-venv)
# The directory test (seed/test/e2e/ldap.e2e.test.ts) starts its own OpenLDAP on a free port and loads it with
# ldapadd; the package's own service is left as the package sets it up (the test never uses it).
{ have slapd || [ -x /usr/sbin/slapd ]; } || packages+=(slapd)
have ldapadd || packages+=(ldap-utils)

if [ "${#packages[@]}" -gt 0 ]; then
  apt_update
  say "installing ${packages[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi

# Debian's packages start their service where systemd runs; the stack runs its own instance on its own data dir.
for unit in valkey-server redis-server; do
  if have systemctl && systemctl is-active --quiet "$unit" 2>/dev/null; then
    say "stopping the system $unit service (the stack starts its own)"
    $SUDO systemctl stop "$unit" || true
  fi
done

say "ready: $( (valkey-server --version || redis-server --version) 2>/dev/null | head -1 | cut -c1-40 ); \
java $(java -version 2>&1 | head -1 | cut -d'"' -f2); $(mvn -v 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' | head -1 | cut -c1-20)"
