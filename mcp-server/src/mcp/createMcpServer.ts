// Builds the process's one McpServer (SDK) with every tool family registered, and the table of what each
// tool requires, which the route enforces before a call reaches the server.
import { McpServer, type RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import pkg from '../../package.json' with { type: 'json' };
import { TOOLS_SCOPE, type ToolAccess } from './toolAccess.ts';
import type { ToolDeps, ToolFamily, ToolRegistrar } from './toolResult.ts';
import { identityTools } from './tools/identity.ts';
import { usageTools } from './tools/usage.ts';

export const TOOL_FAMILIES: readonly ToolFamily[] = [identityTools, usageTools];

export interface McpServerDeps extends ToolDeps {
  jsonSchemaValidator: jsonSchemaValidator;
  /** MCP_REQUIRED_SCOPE: stands in for TOOLS_SCOPE in every tool's rule, as it does for every request. */
  requiredScope?: string;
}

export function createMcpServer(deps: McpServerDeps): {
  server: McpServer;
  toolAccess: ReadonlyMap<string, ToolAccess>;
  /** Every registered tool by name, as the server holds it: what directToolCall runs. */
  tools: ReadonlyMap<string, RegisteredTool>;
} {
  const server = new McpServer(
    { name: 'mcp-keycloak-stack', version: pkg.version },
    {
      jsonSchemaValidator: deps.jsonSchemaValidator,
      instructions:
        'Tools run as the user of your access token; every tool call is counted for that user and rate limited.',
    },
  );
  const toolAccess = new Map<string, ToolAccess>();
  const tools = new Map<string, RegisteredTool>();
  const registrar: ToolRegistrar = {
    registerTool: ((name: string, config: never, callback: never) => {
      const tool = server.registerTool(name, config, callback);
      tools.set(name, tool);
      return tool;
    }) as McpServer['registerTool'],
  };
  for (const family of TOOL_FAMILIES) {
    family.register(registrar, deps);
    for (const [name, access] of Object.entries(family.access)) {
      const scopes = access.scopes.map((scope) =>
        scope === TOOLS_SCOPE ? (deps.requiredScope ?? TOOLS_SCOPE) : scope,
      );
      toolAccess.set(name, { ...access, scopes });
    }
  }
  return { server, toolAccess, tools };
}
