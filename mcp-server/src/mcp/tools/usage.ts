// Usage tools: the caller's own call count, kept in Valkey under the token subject (src/store/SCHEMA.md),
// and the admin tool that resets anyone's count.
import { z } from 'zod';
import { StoreUnavailableError } from '../../store/usageStore.ts';
import { ADMIN_ROLE, ADMIN_SCOPE, TOOLS_SCOPE } from '../toolAccess.ts';
import { ToolFailure, toolResult, toolResultWithArgs, type ToolFamily } from '../toolResult.ts';

const usageOutput = {
  subject: z.string().describe('The token subject the count is kept for'),
  count: z.number().int().describe('Tool calls made by this subject so far, this one included'),
};

const resetInput = {
  subject: z
    .string()
    .min(1)
    .max(256)
    .describe('The subject (token `sub`, e.g. a Keycloak user id) whose count is reset'),
};
const resetOutput = {
  subject: z.string(),
  previousCount: z.number().int().describe('The count the subject had before the reset'),
  resetBy: z.string().describe('The subject of the admin who reset it'),
};

const STORE_DOWN = 'The usage store is unavailable; try again shortly.';

export const usageTools: ToolFamily = {
  access: {
    usage: { scopes: [TOOLS_SCOPE], roles: [] },
    reset_usage: { scopes: [TOOLS_SCOPE, ADMIN_SCOPE], roles: [ADMIN_ROLE] },
  },
  register(server, deps) {
    server.registerTool(
      'usage',
      {
        title: 'My usage',
        description:
          'Counts this call and returns how many tool calls you have made so far (every tool call counts).',
        outputSchema: usageOutput,
        annotations: { readOnlyHint: false, openWorldHint: false, idempotentHint: false },
      },
      toolResult(({ caller, callCount }) => {
        if (callCount === null) throw new ToolFailure(STORE_DOWN);
        return { subject: caller.subject, count: callCount };
      }),
    );

    server.registerTool(
      'reset_usage',
      {
        title: 'Reset a user’s usage (admin)',
        description: `Resets the tool-call count of a subject. Needs the ${ADMIN_SCOPE} scope and the ${ADMIN_ROLE} realm role.`,
        inputSchema: resetInput,
        outputSchema: resetOutput,
        annotations: {
          readOnlyHint: false,
          destructiveHint: true,
          openWorldHint: false,
          idempotentHint: true,
        },
      },
      toolResultWithArgs(async ({ subject }: { subject: string }, { caller }) => {
        try {
          const previousCount = await deps.store.resetUsage(subject);
          deps.logger.info({ subject, by: caller.subject, previousCount }, 'usage reset by admin');
          return { subject, previousCount, resetBy: caller.subject };
        } catch (error) {
          if (error instanceof StoreUnavailableError) throw new ToolFailure(STORE_DOWN);
          throw error;
        }
      }),
    );
  },
};
