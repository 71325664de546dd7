// Where mcp-server/test/clients/setup-node22-tools.sh puts what needs Node 22 (the stack stays on Node 20): a
// Node 22 binary (npm package node-linux-<arch>) and MCP Inspector v2, in the stack's cache directory. Same
// variables as the script.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const SETUP_SCRIPT = 'mcp-server/test/clients/setup-node22-tools.sh';

/** The stack's cache directory (STACK_CACHE_DIR, else XDG_CACHE_HOME or ~/.cache, then mcp-keycloak-stack). */
export function cacheDir(): string {
  return (
    process.env.STACK_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mcp-keycloak-stack')
  );
}

/** The Node 22 binary (`CONFORMANCE_NODE` still overrides it, as before). */
export function node22Bin(): string {
  return (
    process.env.CONFORMANCE_NODE ??
    join(process.env.NODE22_DIR ?? join(cacheDir(), 'node22'), 'package', 'bin', 'node')
  );
}

/** The directory the Inspector v2 package lives in (its own node_modules, installed by the script). */
export function inspectorV2Package(): string {
  return join(
    process.env.INSPECTOR_V2_DIR ?? join(cacheDir(), 'inspector-v2'),
    'node_modules',
    '@modelcontextprotocol',
    'inspector',
  );
}

/** Throws, naming the script to run, when the Node 22 binary or (with `inspector`) Inspector v2 is missing. */
export function assertNode22Tools(options: { inspector?: boolean } = {}): void {
  const missing = [
    node22Bin(),
    ...(options.inspector ? [join(inspectorV2Package(), 'package.json')] : []),
  ].filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(', ')}: npm test provisions them (bash ${SETUP_SCRIPT})`);
  }
}
