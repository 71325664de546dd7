// Gives every tool the same result shape: the JSON both as `structuredContent` and as a text block (clients
// without structured output support read the text). Counting and authorization happen before the SDK runs
// the tool (mcpRoute.ts), so a tool body only sees an authorized, already counted call.
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { UsageStore } from '../store/usageStore.ts';
import { toolCallOf, type ToolCall } from './caller.ts';
import type { ToolAccess } from './toolAccess.ts';

export interface ToolDeps {
  store: UsageStore;
  logger: Logger;
}

/** Where a family registers its tools: the McpServer's own registerTool, recorded for directToolCall. */
export type ToolRegistrar = Pick<McpServer, 'registerTool'>;

/** A tool family: registers its tools and declares what each one requires. */
export interface ToolFamily {
  access: Record<string, ToolAccess>;
  register(server: ToolRegistrar, deps: ToolDeps): void;
}

export class ToolFailure extends Error {}

export function toolResult<T extends Record<string, unknown>>(
  body: (call: ToolCall) => T | Promise<T>,
): (extra: { authInfo?: AuthInfo }) => Promise<CallToolResult> {
  return async (extra) => {
    const call = toolCallOf(extra.authInfo);
    try {
      const result = await body(call);
      return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
    } catch (error) {
      if (!(error instanceof ToolFailure)) throw error;
      return { isError: true, content: [{ type: 'text', text: error.message }] };
    }
  };
}

export function toolResultWithArgs<A, T extends Record<string, unknown>>(
  body: (args: A, call: ToolCall) => T | Promise<T>,
): (args: A, extra: { authInfo?: AuthInfo }) => Promise<CallToolResult> {
  return async (args, extra) => toolResult((call) => body(args, call))(extra);
}
