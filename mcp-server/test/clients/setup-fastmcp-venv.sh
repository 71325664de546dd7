#!/usr/bin/env bash
# The Python venv the FastMCP client test uses (PyPI fastmcp, pinned), in the stack's cache directory.
# Safe to run again: an existing venv that imports the pinned fastmcp is kept.
set -euo pipefail
FASTMCP_VERSION=4.1.2
venv="${FASTMCP_VENV:-$HOME/.cache/mcp-keycloak-stack/fastmcp-venv}"
if [ -x "$venv/bin/python" ] &&
  "$venv/bin/python" -c "import importlib.metadata as m; assert m.version('fastmcp') == '$FASTMCP_VERSION'" 2>/dev/null; then
  echo "[fastmcp] $venv has fastmcp $FASTMCP_VERSION"
  exit 0
fi
echo "[fastmcp] creating $venv with fastmcp $FASTMCP_VERSION"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "fastmcp==$FASTMCP_VERSION"
