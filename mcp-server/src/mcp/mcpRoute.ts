// The Streamable HTTP endpoint (/mcp) in Koa, stateless (MCP spec 2025-11-25 §Transports, Streamable HTTP).
// bearerAuth has authenticated the caller and decided the request-level rule; a POST then goes through named
// steps, each its own module with a typed result, before the one long-lived McpServer sees it:
//   transportRules → readMessage → resolveTarget → paramsRefusal → decideCall → admission → callRefusal
//   → dispatch (a plain call of one of our tools directly, everything else through the SDK).
// A step says "no" with a Refusal, which the route writes. GET and DELETE are not offered (405).
import type { McpServer, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Middleware } from 'koa';
import type { AccessRule, Decision } from '../auth/authorize.ts';
import type { AppState } from '../http/appState.ts';
import type { Metrics } from '../metrics.ts';
import type { UsageStore } from '../store/usageStore.ts';
import { createAdmission, STORE_DOWN } from './admission.ts';
import { callRefusal, decideCall } from './authorizeCall.ts';
import { directToolCall } from './directToolCall.ts';
import { dispatch } from './dispatch.ts';
import { MultiplexTransport } from './multiplexTransport.ts';
import { paramsRefusal } from './paramsProblem.ts';
import { readMessage } from './readMessage.ts';
import { Refusal, SERVER_ERROR } from './refusal.ts';
import { resolveTarget, toolTargets } from './target.ts';
import type { ToolAccess } from './toolAccess.ts';
import { transportRules } from './transportRules.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface McpRouteOptions {
  server: McpServer;
  toolAccess: ReadonlyMap<string, ToolAccess>;
  /** The server's registered tools (createMcpServer): plain calls of these skip the SDK's dispatch. */
  tools: ReadonlyMap<string, RegisteredTool>;
  /** bearerAuth's rule, already decided for every request that reaches the route. */
  requestRule: AccessRule;
  /** ProtectedResource.challenge. */
  challenge: (decision: Decision) => string | undefined;
  store: UsageStore;
  metrics: Metrics;
  storeFailureMode: 'closed' | 'open';
  maxBodyBytes?: number;
}

export interface McpRoute {
  post: Middleware<AppState>;
  /** Connects the server to the transport; call once before serving. */
  start(): Promise<void>;
  /** Answers in-flight requests with an error and disconnects the server. */
  close(): Promise<void>;
}

export function createMcpRoute(options: McpRouteOptions): McpRoute {
  const limit = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const transport = new MultiplexTransport();
  const checkTransport = transportRules();
  const tools = toolTargets(options.toolAccess, options.requestRule);
  const admission = createAdmission(options);
  const refuseCall = callRefusal(options);
  const dispatcher = dispatch(transport, options.metrics, directToolCall(options.tools));

  const post: Middleware<AppState> = async function mcpPost(ctx) {
    const token = ctx.state.auth;
    if (!token) throw new Error('mcpPost reached without bearerAuth');
    const badTransport = checkTransport(ctx.get('accept'), ctx.get('mcp-protocol-version'));
    if (badTransport) return badTransport.answer(ctx);
    const incoming = await readMessage(ctx.req, limit);
    if (incoming instanceof Refusal) return incoming.answer(ctx);

    if (incoming.kind !== 'request') {
      // Counted against the rate limit like any message, never as a call.
      const admitted = await admission.admit(ctx, token.subject, false, undefined, null);
      if (admitted instanceof Refusal) return admitted.answer(ctx);
      if (incoming.kind === 'notification') dispatcher.notify(incoming.message, token);
      ctx.status = 202; // spec: notifications and responses are accepted with 202 and no body
      ctx.body = '';
      return;
    }

    const request = incoming.message;
    const target = resolveTarget(request, tools);
    const badParams = paramsRefusal(request);
    const decision = decideCall(token, target);
    // Decided before admission so that only a call that will run is counted; answered after it.
    const countCall = target.kind === 'tool' && decision.allowed && !badParams;
    const admitted = await admission.admit(ctx, token.subject, countCall, target, request.id);
    if (admitted instanceof Refusal) return admitted.answer(ctx);
    const refused = badParams ?? refuseCall(ctx, target, decision, request.id);
    if (refused) return refused.answer(ctx);
    if (admitted === STORE_DOWN && admission.answeredWhileDown(ctx, target, request.id)) return;

    const callCount = admitted === STORE_DOWN ? null : admitted.count;
    const answer = await dispatcher.request(request, target, token, callCount, ctx.res);
    ctx.status = 200;
    ctx.body = answer;
  };

  return {
    post,
    start: () => options.server.connect(transport),
    close: () => options.server.close(),
  };
}

const NOT_ALLOWED = new Refusal(
  'method_not_allowed',
  405,
  SERVER_ERROR,
  'Method not allowed: this server is stateless, use POST',
  null,
  { Allow: 'POST' },
);

/** GET (server-initiated SSE stream) and DELETE (end session) mean nothing without sessions. */
export function mcpMethodNotAllowed(): Middleware<AppState> {
  return async function mcpMethodNotAllowed(ctx) {
    NOT_ALLOWED.answer(ctx);
  };
}
