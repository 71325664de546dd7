// The upstreams file (MCP_UPSTREAMS_FILE) as the seed reads it: with the MCP server's own parser, so the realm and
// the gateway never disagree about a name, a path or a scope.
import {
  loadUpstreamsFile,
  UpstreamsFileError,
  type UpstreamSpec,
} from '@mcp-keycloak-stack/mcp-server/upstreamsFile';
import { SeedError } from '../errors.ts';

/** No path: no upstreams. A file that does not parse is the seed's config_invalid, naming the variable. */
export function readUpstreams(
  path: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): UpstreamSpec[] {
  if (!path) return [];
  // The realm needs names, paths, scopes and identities only. `${VAR}` in a transport (an upstream's API key) is
  // the MCP server's to fill: one that is not set here reads as "" instead of failing the seed for a secret it
  // never uses (the compose seed container is not given the upstreams' secrets).
  const lenient = new Proxy(
    {},
    { get: (_, name) => (typeof name === 'string' ? (env[name] ?? '') : undefined) },
  ) as Readonly<Record<string, string>>;
  try {
    return loadUpstreamsFile(path, lenient);
  } catch (error) {
    if (error instanceof UpstreamsFileError) {
      throw new SeedError('config_invalid', `MCP_UPSTREAMS_FILE: ${error.message}`);
    }
    throw error;
  }
}
