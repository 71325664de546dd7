// Every tool call is counted under the caller's subject before the tool runs (as in the proof of concept);
// this wrapper makes that impossible to forget and gives every tool the same result shape.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { StoreUnavailableError, type UsageStore } from '../store/usageStore.ts';
import { callerOf, type Caller } from './caller.ts';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';

export interface ToolDeps {
  store: UsageStore;
  logger: Logger;
}

/**
 * Wraps a tool body: resolves the caller, counts the call, runs the body, and returns its JSON both as
 * `structuredContent` and as a text block (clients without structured output support read the text).
 *
 * Trade-off: when Valkey is down the call fails (isError) instead of running uncounted. Counts are what
 * rate limits will be built on, so an uncounted call is a call that escaped the limit.
 */
export function countedToolCall<T extends Record<string, unknown>>(
  deps: ToolDeps,
  toolName: string,
  body: (caller: Caller, callCount: number) => T | Promise<T>,
): (extra: { authInfo?: AuthInfo }) => Promise<CallToolResult> {
  return async (extra) => {
    const caller = callerOf(extra.authInfo);
    let count: number;
    try {
      count = await deps.store.incrementUsage(caller.subject);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      deps.logger.warn({ tool: toolName, reason: error.message }, 'tool call refused: store unavailable');
      return {
        isError: true,
        content: [
          { type: 'text', text: 'The usage store is unavailable; the call was not run. Try again shortly.' },
        ],
      };
    }
    const result = await body(caller, count);
    return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
  };
}
