// Step 6 of POST /mcp: hands an admitted, authorized message to the one long-lived McpServer through
// MultiplexTransport, and records the tool-call metrics. Result: the JSON-RPC answer (a request), or nothing
// (a notification, which only ever gets 202).
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { JSONRPCNotification, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import type { ServerResponse } from 'node:http';
import type { VerifiedToken } from '../auth/verifiedToken.ts';
import type { Metrics } from '../metrics.ts';
import { authInfoFor } from './caller.ts';
import type { DirectToolCall } from './directToolCall.ts';
import type { JsonRpcAnswer, MultiplexTransport } from './multiplexTransport.ts';
import type { Target } from './target.ts';

export interface Dispatch {
  /** Runs the request; cancels it in the server if the HTTP client goes away first. */
  request(
    request: JSONRPCRequest,
    target: Target,
    token: VerifiedToken,
    callCount: number | null,
    res: ServerResponse,
  ): Promise<JsonRpcAnswer>;
  notify(notification: JSONRPCNotification, token: VerifiedToken): void;
}

export function dispatch(transport: MultiplexTransport, metrics: Metrics, direct: DirectToolCall): Dispatch {
  function viaServer(request: JSONRPCRequest, authInfo: AuthInfo, res: ServerResponse) {
    const pending = transport.request(request, authInfo);
    // Without sessions a client cancels by closing its HTTP request, which cancels that request alone.
    res.once('close', () => {
      if (!res.writableFinished) pending.cancel();
    });
    return pending.answer;
  }

  return {
    async request(request, target, token, callCount, res) {
      const tool = target.kind === 'tool' ? target.name : undefined;
      const started = tool ? performance.now() : 0;
      const authInfo = authInfoFor(token, callCount);
      // Only a declared tool takes the direct lane; its handler takes no signal, so there is nothing to cancel.
      const answer = await ((tool ? direct(request, authInfo) : undefined) ??
        viaServer(request, authInfo, res));
      if (tool) {
        metrics.toolCallDuration.observe({ tool }, (performance.now() - started) / 1000);
        const outcome =
          answer.error !== undefined
            ? 'error'
            : (answer.result as { isError?: boolean } | undefined)?.isError
              ? 'tool_error'
              : 'ok';
        metrics.toolCalls.inc({ tool, outcome });
      }
      return answer;
    },

    notify(notification, token) {
      // Only notifications/initialized reaches the shared server. notifications/cancelled in particular must
      // not: its requestId would name the server's internal ids, i.e. any caller's request.
      if (notification.method === 'notifications/initialized') {
        transport.notify(notification, authInfoFor(token, null));
      }
    },
  };
}
