// Usage tools: the caller's own call count, kept in Valkey under the token subject (src/store/SCHEMA.md).
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { countedToolCall, type ToolDeps } from '../countedToolCall.ts';

const usageOutput = {
  subject: z.string().describe('The token subject the count is kept for'),
  count: z.number().int().describe('Tool calls made by this subject so far, this one included'),
};

export function registerUsageTools(server: McpServer, deps: ToolDeps): void {
  server.registerTool(
    'usage',
    {
      title: 'My usage',
      description:
        'Counts this call and returns how many tool calls you have made so far (every tool call counts).',
      outputSchema: usageOutput,
      annotations: { readOnlyHint: false, openWorldHint: false, idempotentHint: false },
    },
    countedToolCall(deps, 'usage', (caller, count) => ({ subject: caller.subject, count })),
  );
}
