// Identity tools: what the server knows about the caller, straight from the verified access token.
import { z } from 'zod';
import { TOOLS_SCOPE } from '../toolAccess.ts';
import { toolResult, type ToolFamily } from '../toolResult.ts';

const whoamiOutput = {
  subject: z
    .string()
    .describe('The token subject (sub): a stable user id, or the service account of a client'),
  username: z.string().nullable().describe('preferred_username, when the token has one'),
  clientId: z.string().describe('The OAuth client that obtained the token (azp)'),
  scopes: z.array(z.string()).describe('Scopes granted to the token'),
  roles: z.array(z.string()).describe('Realm roles in the token (realm_access.roles)'),
  expiresAt: z.number().int().describe('Token expiry, seconds since the epoch'),
};

export const identityTools: ToolFamily = {
  access: { whoami: { scopes: [TOOLS_SCOPE], roles: [] } },
  register(server) {
    server.registerTool(
      'whoami',
      {
        title: 'Who am I',
        description:
          'Returns the identity the server sees in your access token: subject, username, client, scopes and roles.',
        outputSchema: whoamiOutput,
        annotations: { readOnlyHint: false, openWorldHint: false, idempotentHint: false },
      },
      toolResult(({ caller }) => ({
        subject: caller.subject,
        username: caller.username,
        clientId: caller.clientId,
        scopes: caller.scopes,
        roles: caller.roles,
        expiresAt: caller.expiresAt,
      })),
    );
  },
};
