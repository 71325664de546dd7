// The last step at an upstream path: sends an admitted, authorized request to the caller's upstream session
// and streams back what belongs to it — progress for the caller's own progressToken, the upstream's
// notifications for this caller's session, then the response. Bounded by the upstream's timeout; ends early
// when the caller cancels (notifications/cancelled for this id, or the HTTP request closed).
import {
  ErrorCode,
  McpError,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type Result,
} from '@modelcontextprotocol/sdk/types.js';
import type { ParameterizedContext } from 'koa';
import type { VerifiedToken } from '../auth/verifiedToken.ts';
import type { Metrics } from '../metrics.ts';
import { SERVER_ERROR } from '../mcp/refusal.ts';
import { answerStream } from './answerStream.ts';
import type { AuditOutcome } from './audit.ts';
import type { ConnectionPool } from './connectionPool.ts';
import type { GatewaySession } from './gatewaySessions.ts';
import type { ToolPolicy } from './toolPolicy.ts';
import type { UpstreamConnection } from './upstreamConnection.ts';
import { UpstreamError } from './upstreamError.ts';

export interface ForwardInput {
  request: JSONRPCRequest;
  session: GatewaySession;
  /** The session's upstream connection (pool.get(session.key), resolved by the route). */
  connection: UpstreamConnection;
  pool: ConnectionPool;
  policy: ToolPolicy;
  token: VerifiedToken;
  /** `<upstream>/<tool>` for a tools/call (metrics label), else undefined. */
  metricsTool: string | undefined;
  metrics: Metrics;
}

export async function forward(ctx: ParameterizedContext, input: ForwardInput): Promise<AuditOutcome> {
  const { request, session, pool, policy, token } = input;
  const id = request.id;
  const key = String(id);
  const controller = new AbortController();
  // A second request with an id still in flight would make cancellation ambiguous: the newer one wins it.
  session.inflight.set(key, controller);
  const onClose = () => {
    if (!ctx.res.writableFinished) controller.abort(new Error('the caller went away'));
  };
  ctx.res.once('close', onClose);
  const stream = answerStream(ctx);
  const stopListening = pool.listen(session.key, (notification) =>
    stream.notify({ jsonrpc: '2.0', ...notification } as JSONRPCMessage),
  );
  const { params, progressToken } = withoutProgressToken(request.params);
  const started = performance.now();
  let outcome: AuditOutcome;
  try {
    const result = await input.connection.request(request.method, params, {
      signal: controller.signal,
      ...(progressToken === undefined
        ? {}
        : {
            // The upstream reports against the gateway's token; the caller hears its own.
            onprogress: (progress) =>
              stream.notify({
                jsonrpc: '2.0',
                method: 'notifications/progress',
                params: { ...progress, progressToken },
              }),
          }),
    });
    const shown = request.method === 'tools/list' ? visibleTools(result, policy, token) : result;
    stream.finish({ jsonrpc: '2.0', id, result: shown });
    outcome = (result as { isError?: unknown }).isError === true ? 'tool_error' : 'ok';
  } catch (error) {
    const [code, message, why] = describeFailure(error, controller.signal);
    stream.finish({ jsonrpc: '2.0', id, error: { code, message } });
    outcome = why;
  } finally {
    if (session.inflight.get(key) === controller) session.inflight.delete(key);
    stopListening();
    ctx.res.off('close', onClose);
  }
  if (input.metricsTool) {
    input.metrics.toolCallDuration.observe({ tool: input.metricsTool }, (performance.now() - started) / 1000);
    input.metrics.toolCalls.inc({
      tool: input.metricsTool,
      outcome: outcome === 'ok' ? 'ok' : outcome === 'tool_error' ? 'tool_error' : 'error',
    });
  }
  return outcome;
}

/** The caller's progressToken is the caller's: the SDK client puts its own on the upstream request. */
function withoutProgressToken(params: JSONRPCRequest['params']): {
  params: Record<string, unknown> | undefined;
  progressToken: string | number | undefined;
} {
  const meta = params?._meta as { progressToken?: unknown } | undefined;
  const token = meta?.progressToken;
  if (!params || (typeof token !== 'string' && typeof token !== 'number')) {
    return { params: params as Record<string, unknown> | undefined, progressToken: undefined };
  }
  const { progressToken: _, ...restMeta } = meta as Record<string, unknown>;
  const rest: Record<string, unknown> = { ...params };
  if (Object.keys(restMeta).length > 0) rest._meta = restMeta;
  else delete rest._meta;
  return { params: rest, progressToken: token };
}

function visibleTools(result: Result, policy: ToolPolicy, token: VerifiedToken): Result {
  const tools = (result as { tools?: unknown }).tools;
  if (!Array.isArray(tools)) return result;
  return {
    ...result,
    tools: tools.filter(
      (tool: { name?: unknown }) => typeof tool?.name === 'string' && policy.visible(token, tool.name),
    ),
  };
}

/** JSON-RPC code, a message for the caller, and the audit outcome. */
function describeFailure(error: unknown, signal: AbortSignal): [number, string, AuditOutcome] {
  if (signal.aborted) return [ErrorCode.RequestTimeout, 'Request cancelled', 'cancelled'];
  if (error instanceof UpstreamError) return [SERVER_ERROR, error.message, 'unavailable'];
  if (error instanceof McpError) {
    if (error.code === ErrorCode.RequestTimeout)
      return [error.code, 'The upstream did not answer in time', 'timeout'];
    if (error.code === ErrorCode.ConnectionClosed)
      return [SERVER_ERROR, 'The upstream closed the connection before answering', 'unavailable'];
    // The upstream's own JSON-RPC error (its message is its own: e.g. "Unknown tool", invalid params).
    return [error.code, error.message.replace(/^MCP error -?\d+: /, ''), 'error'];
  }
  return [SERVER_ERROR, 'The upstream failed to answer', 'unavailable'];
}
