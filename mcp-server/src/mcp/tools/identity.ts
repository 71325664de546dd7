// Identity tools: what the server knows about the caller, straight from the verified access token.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { countedToolCall, type ToolDeps } from '../countedToolCall.ts';

const whoamiOutput = {
  subject: z
    .string()
    .describe('The token subject (sub): a stable user id, or the service account of a client'),
  username: z.string().nullable().describe('preferred_username, when the token has one'),
  clientId: z.string().describe('The OAuth client that obtained the token (azp)'),
  scopes: z.array(z.string()).describe('Scopes granted to the token'),
  expiresAt: z.number().int().describe('Token expiry, seconds since the epoch'),
};

export function registerIdentityTools(server: McpServer, deps: ToolDeps): void {
  server.registerTool(
    'whoami',
    {
      title: 'Who am I',
      description:
        'Returns the identity the server sees in your access token: subject, username, client and scopes.',
      outputSchema: whoamiOutput,
      annotations: { readOnlyHint: false, openWorldHint: false, idempotentHint: false },
    },
    countedToolCall(deps, 'whoami', (caller) => ({
      subject: caller.subject,
      username: caller.username,
      clientId: caller.clientId,
      scopes: caller.scopes,
      expiresAt: caller.expiresAt,
    })),
  );
}
