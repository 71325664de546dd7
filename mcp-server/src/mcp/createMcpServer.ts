// Builds the MCP server (SDK McpServer) with every tool family registered. Cheap enough to build per request
// in stateless mode as long as the JSON Schema validator (Ajv, the expensive part) is shared.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import pkg from '../../package.json' with { type: 'json' };
import type { ToolDeps } from './countedToolCall.ts';
import { registerIdentityTools } from './tools/identity.ts';
import { registerUsageTools } from './tools/usage.ts';

export interface McpServerDeps extends ToolDeps {
  /** Create once per process (e.g. `new AjvJsonSchemaValidator()`) and pass to every server. */
  jsonSchemaValidator: jsonSchemaValidator;
}

export function createMcpServer(deps: McpServerDeps): McpServer {
  const server = new McpServer(
    { name: 'mcp-keycloak-stack', version: pkg.version },
    {
      jsonSchemaValidator: deps.jsonSchemaValidator,
      instructions: 'Tools run as the user of your access token; every tool call is counted for that user.',
    },
  );
  registerIdentityTools(server, deps);
  registerUsageTools(server, deps);
  return server;
}
