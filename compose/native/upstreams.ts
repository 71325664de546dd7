// The upstreams file read once by the launcher before anything starts: a broken file stops `npm start` with the
// parser's message instead of an MCP server that exits later, and the stack card lists every resource.
import {
  loadUpstreamsFile,
  UpstreamsFileError,
  type UpstreamSpec,
} from '@mcp-keycloak-stack/mcp-server/upstreamsFile';
import { LaunchError } from './output.ts';
import type { Settings } from './settings.ts';

/** Validated with the launcher's environment, which the MCP server inherits (`${VAR}` in the file). */
export function loadUpstreams(settings: Settings, env: NodeJS.ProcessEnv = process.env): UpstreamSpec[] {
  if (!settings.upstreamsFile) return [];
  try {
    return loadUpstreamsFile(settings.upstreamsFile, env);
  } catch (error) {
    if (!(error instanceof UpstreamsFileError)) throw error;
    throw new LaunchError(
      'upstreams_invalid',
      `MCP_UPSTREAMS_FILE: ${error.message} (set MCP_UPSTREAMS_FILE= to start without upstreams)`,
    );
  }
}
