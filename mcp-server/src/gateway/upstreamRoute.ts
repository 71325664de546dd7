// POST/DELETE/GET at an upstream's public path (/mcp/<name>). bearerAuth has checked the token, its audience
// (this upstream's URL) and the upstream's scopes. A POST then goes through named steps, the built-in
// route's where they mean the same (mcp/*.ts):
//   transportRules → readMessage → session → paramsRefusal → judgeTool → admission → refusals → forward.
// Everything a caller may be refused is decided before the upstream is contacted. The caller's token never
// leaves this process: the upstream sees the JSON-RPC message and its own credentials only.
import type { JSONRPCNotification, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Middleware, ParameterizedContext } from 'koa';
import type { Logger } from 'pino';
import type { AccessRule, Decision } from '../auth/authorize.ts';
import type { VerifiedToken } from '../auth/verifiedToken.ts';
import type { AppState } from '../http/appState.ts';
import type { Metrics } from '../metrics.ts';
import { createAdmission, STORE_DOWN } from '../mcp/admission.ts';
import { callRefusal } from '../mcp/authorizeCall.ts';
import { paramsRefusal } from '../mcp/paramsProblem.ts';
import { readMessage } from '../mcp/readMessage.ts';
import { FORBIDDEN, Refusal, SERVER_ERROR } from '../mcp/refusal.ts';
import type { Target } from '../mcp/target.ts';
import { transportRules } from '../mcp/transportRules.ts';
import type { UsageStore } from '../store/usageStore.ts';
import { auditToolCall, type AuditOutcome, type ToolCallAudit } from './audit.ts';
import type { ConnectionPool } from './connectionPool.ts';
import { forward } from './forward.ts';
import type { GatewaySession, GatewaySessions } from './gatewaySessions.ts';
import { initializeAnswer } from './initializeAnswer.ts';
import type { ToolPolicy } from './toolPolicy.ts';
import type { ExchangeToken } from './tokenExchange.ts';
import type { UpstreamConnection } from './upstreamConnection.ts';
import { UpstreamError } from './upstreamError.ts';
import { lendIdentity } from './upstreamIdentity.ts';
import type { UpstreamSpec } from './upstreamsFile.ts';

export interface UpstreamRouteOptions {
  spec: UpstreamSpec;
  pool: ConnectionPool;
  sessions: GatewaySessions;
  policy: ToolPolicy;
  /** The upstream's own rule (bearerAuth's): named in tool targets for metrics and challenges. */
  requestRule: AccessRule;
  challenge: (decision: Decision) => string | undefined;
  store: UsageStore;
  metrics: Metrics;
  storeFailureMode: 'closed' | 'open';
  maxBodyBytes: number;
  audit: Logger;
  /** For upstreams with identity: token-exchange (config.tokenExchange). */
  exchange?: ExchangeToken;
}

export interface UpstreamRoute {
  post: Middleware<AppState>;
  delete: Middleware<AppState>;
  get: Middleware<AppState>;
}

const SESSION_HEADER = 'mcp-session-id';

export function upstreamRoute(options: UpstreamRouteOptions): UpstreamRoute {
  const { spec, pool, sessions, policy } = options;
  const checkTransport = transportRules();
  const admission = createAdmission({ ...options, upstream: spec.name });
  const refuseCall = callRefusal(options);

  function sessionOf(ctx: ParameterizedContext<AppState>, token: VerifiedToken): GatewaySession | Refusal {
    const id = ctx.get(SESSION_HEADER);
    if (!id) {
      return new Refusal(
        'session_required',
        400,
        SERVER_ERROR,
        'Bad Request: Mcp-Session-Id header required (send initialize first)',
      );
    }
    // Someone else's session is answered like an unknown one: the id opens nothing without its owner's token.
    return (
      sessions.find(id, token.subject) ??
      new Refusal('session_not_found', 404, SERVER_ERROR, 'Session not found: send initialize again')
    );
  }

  const post: Middleware<AppState> = async function upstreamPost(ctx) {
    const token = ctx.state.auth;
    if (!token) throw new Error('upstreamPost reached without bearerAuth');
    const badTransport = checkTransport(ctx.get('accept'), ctx.get('mcp-protocol-version'));
    if (badTransport) return badTransport.answer(ctx);
    const incoming = await readMessage(ctx.req, options.maxBodyBytes);
    if (incoming instanceof Refusal) return incoming.answer(ctx);
    const isInitialize = incoming.kind === 'request' && incoming.message.method === 'initialize';
    const session = isInitialize ? undefined : sessionOf(ctx, token);
    if (session instanceof Refusal) return session.answer(ctx);

    if (incoming.kind !== 'request') {
      const admitted = await admission.admit(ctx, token.subject, false, undefined, null);
      if (admitted instanceof Refusal) return admitted.answer(ctx);
      if (incoming.kind === 'notification' && session) notify(session, incoming.message);
      ctx.status = 202;
      ctx.body = '';
      return;
    }

    const request = incoming.message;
    const tool =
      request.method === 'tools/call' ? String((request.params as { name?: unknown })?.name) : undefined;
    const audit = tool === undefined ? undefined : auditFor(token, tool, request);
    const badParams = paramsRefusal(request);
    const verdict = tool === undefined ? undefined : policy.judge(token, tool);
    const target: Target =
      tool === undefined
        ? { kind: 'method' }
        : { kind: 'tool', name: `${spec.name}/${tool}`, rule: options.requestRule };
    const countCall = verdict !== undefined && verdict.offered && verdict.decision.allowed && !badParams;
    const admitted = await admission.admit(ctx, token.subject, countCall, target, request.id);
    if (admitted instanceof Refusal) return refused(ctx, admitted, audit, 'rate_limited');
    if (badParams) return refused(ctx, badParams, audit, 'invalid_params');
    if (verdict && !verdict.offered) {
      options.metrics.toolCalls.inc({
        tool: target.kind === 'tool' ? target.name : 'unknown',
        outcome: 'not_offered',
      });
      return refused(ctx, notOffered(tool as string, request.id), audit, 'not_offered');
    }
    if (verdict?.offered && !verdict.decision.allowed) {
      const refusal = refuseCall(
        ctx,
        { kind: 'tool', name: tool as string, rule: options.requestRule },
        verdict.decision,
        request.id,
      );
      if (refusal)
        return refused(
          ctx,
          refusal,
          audit,
          verdict.decision.code === 'role_missing' ? 'role_missing' : 'insufficient_scope',
        );
    }
    if (admitted === STORE_DOWN && admission.answeredWhileDown(ctx, target, request.id)) {
      audit?.done('store_unavailable');
      return;
    }

    const sessionFor = isInitialize
      ? sessions.open(token.subject, (id) => pool.keyFor(token.subject, id))
      : (session as GatewaySession); // every request but initialize has one (sessionOf)
    const connection = connectionOf(sessionFor.key);
    const problem =
      typeof connection === 'string'
        ? connection
        : await lendIdentity(spec, options.exchange, ctx.get('authorization'), connection);
    if (problem !== undefined || typeof connection === 'string') {
      // The caller gets the message; the operator sees it too (a wrong gateway secret shows nowhere else).
      ctx.state.log.warn({ upstream: spec.name, problem }, 'upstream request not forwarded');
      if (isInitialize) sessions.end(sessionFor);
      audit?.done('unavailable');
      ctx.status = 200;
      ctx.body = { jsonrpc: '2.0', id: request.id, error: { code: SERVER_ERROR, message: problem } };
      return;
    }
    if (isInitialize) {
      const opened = sessionFor;
      const answer = await initializeAnswer(connection, request);
      if ('error' in answer) sessions.end(opened);
      else ctx.set('Mcp-Session-Id', opened.id);
      ctx.status = 200;
      ctx.body = answer;
      return;
    }
    const outcome = await forward(ctx, {
      request,
      session: sessionFor,
      connection,
      pool,
      policy,
      token,
      metricsTool: target.kind === 'tool' ? target.name : undefined,
      metrics: options.metrics,
    });
    audit?.done(outcome);
  };

  /** The key's upstream connection, or why there is none (every process busy: connectionPool.ts). */
  function connectionOf(key: string): UpstreamConnection | string {
    try {
      return pool.get(key);
    } catch (error) {
      if (error instanceof UpstreamError) return error.message;
      throw error;
    }
  }

  function notify(session: GatewaySession, notification: JSONRPCNotification): void {
    if (notification.method === 'notifications/cancelled') {
      // Only the caller's own requests: the id is looked up in this session, never upstream-wide.
      const id = (notification.params as { requestId?: unknown } | undefined)?.requestId;
      session.inflight.get(String(id))?.abort(new Error('cancelled by the caller'));
      return;
    }
    // The gateway initialized the upstream session itself; anything else (roots/list_changed) goes through.
    if (notification.method === 'notifications/initialized') return;
    const connection = connectionOf(session.key);
    if (typeof connection === 'string') return;
    connection
      .notify(notification.method, notification.params as Record<string, unknown> | undefined)
      .catch(() => {});
  }

  function auditFor(token: VerifiedToken, tool: string, request: JSONRPCRequest): ToolCallAudit {
    const args = spec.audit.arguments ? (request.params as { arguments?: unknown })?.arguments : undefined;
    return auditToolCall(
      options.audit,
      { subject: token.subject, clientId: token.clientId, upstream: spec.name, tool: tool.slice(0, 128) },
      args,
    );
  }

  const del: Middleware<AppState> = async function upstreamDelete(ctx) {
    const token = ctx.state.auth;
    if (!token) throw new Error('upstreamDelete reached without bearerAuth');
    const session = sessionOf(ctx, token);
    if (session instanceof Refusal) return session.answer(ctx);
    sessions.end(session);
    ctx.status = 204;
  };

  const get: Middleware<AppState> = async function upstreamGet(ctx) {
    // No standalone SSE stream: notifications outside a call travel with the caller's next streamed answer.
    new Refusal('method_not_allowed', 405, SERVER_ERROR, 'Method not allowed: use POST', null, {
      Allow: 'POST, DELETE',
    }).answer(ctx);
  };

  return { post, delete: del, get };
}

function refused(
  ctx: ParameterizedContext,
  refusal: Refusal,
  audit: ToolCallAudit | undefined,
  outcome: AuditOutcome,
): void {
  audit?.done(outcome);
  refusal.answer(ctx);
}

function notOffered(tool: string, id: RequestId): Refusal {
  return new Refusal(
    'tool_not_offered',
    200,
    FORBIDDEN,
    `Forbidden: the tool ${JSON.stringify(tool.slice(0, 64))} is not offered through this gateway`,
    id,
  );
}
