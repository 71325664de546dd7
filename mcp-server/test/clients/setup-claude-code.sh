#!/usr/bin/env bash
# Claude Code for mcp-server/test/clients/claudeCode.test.ts, in the stack's cache directory: the native build the
# npm package @anthropic-ai/claude-code installs for this platform (its optional dependency
# @anthropic-ai/claude-code-linux-<arch>, a single self-contained executable, no install script, no Node needed).
# The package itself is not installed: its recent releases want Node >= 22 and a postinstall step that only
# links that executable. Pinned here and in the test (CLAUDE_CODE_VERSION); from the registry npm is configured with.
# Safe to run again: a binary of the pinned version already in place is kept.
set -euo pipefail
CLAUDE_CODE_VERSION=2.1.332
cache="${STACK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-keycloak-stack}"
dir="${CLAUDE_CODE_DIR:-$cache/claude-code-$CLAUDE_CODE_VERSION}"

case "$(uname -m)" in
  x86_64) pkg=@anthropic-ai/claude-code-linux-x64 ;;
  aarch64 | arm64) pkg=@anthropic-ai/claude-code-linux-arm64 ;;
  *) echo "[claude-code] no native build for $(uname -m)" >&2; exit 1 ;;
esac

bin="$dir/package/claude"
if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "^$CLAUDE_CODE_VERSION "; then
  echo "[claude-code] $bin is Claude Code $CLAUDE_CODE_VERSION"
  exit 0
fi
echo "[claude-code] fetching $pkg@$CLAUDE_CODE_VERSION into $dir (about 190 MB)"
mkdir -p "$dir"
work="$(mktemp -d "$dir/.fetch-XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$pkg@$CLAUDE_CODE_VERSION" >/dev/null && tar -xzf ./*.tgz)
rm -rf "$dir/package"
mv "$work/package" "$dir/package"
"$bin" --version
