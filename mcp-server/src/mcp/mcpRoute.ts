// The Streamable HTTP endpoint (/mcp) in Koa, stateless (MCP spec 2025-11-25 §Transports, Streamable HTTP).
// Every POST is checked here — headers, body, per-tool authorization, rate limit and count — before the one
// long-lived McpServer sees it through MultiplexTransport; GET and DELETE are not offered (405).
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  SUPPORTED_PROTOCOL_VERSIONS,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import type { Middleware, ParameterizedContext } from 'koa';
import { wwwAuthenticate } from '../auth/protectedResource.ts';
import type { AppState } from '../http/appState.ts';
import { readJsonBody, RequestBodyError } from '../http/readJsonBody.ts';
import type { Metrics } from '../metrics.ts';
import { StoreUnavailableError, type Admission, type UsageStore } from '../store/usageStore.ts';
import { authInfoFor } from './caller.ts';
import { MultiplexTransport } from './multiplexTransport.ts';
import { decideToolAccess, type ToolAccess } from './toolAccess.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

// JSON-RPC 2.0 §5.1 codes, and the SDK's -32000 for transport-level refusals.
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const INVALID_PARAMS = -32602;
const SERVER_ERROR = -32000;
/** MCP-specific: the request was understood but refused for this caller (no token can fix it). */
const FORBIDDEN = -32003;

export interface McpRouteOptions {
  server: McpServer;
  toolAccess: ReadonlyMap<string, ToolAccess>;
  store: UsageStore;
  metrics: Metrics;
  resourceMetadataUrl: string;
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

type IncomingJsonRpc =
  | { kind: 'request'; message: JSONRPCRequest }
  | { kind: 'notification'; message: JSONRPCNotification }
  | { kind: 'response' }
  | { kind: 'invalid'; reason: string; id: RequestId | null };

/** Shape check only (the SDK validates params); cheap enough to run on every request. */
export function classifyJsonRpc(body: unknown): IncomingJsonRpc {
  if (Array.isArray(body)) {
    // JSON-RPC batching was removed in MCP 2025-06-18; this server speaks 2025-06-18 and later.
    return { kind: 'invalid', reason: 'Invalid Request: batches are not supported', id: null };
  }
  if (typeof body !== 'object' || body === null) {
    return { kind: 'invalid', reason: 'Invalid Request: not a JSON-RPC message', id: null };
  }
  const m = body as Record<string, unknown>;
  const id = typeof m.id === 'string' || typeof m.id === 'number' ? m.id : null;
  if (m.jsonrpc !== '2.0') return { kind: 'invalid', reason: 'Invalid Request: jsonrpc must be "2.0"', id };
  if ('method' in m) {
    if (typeof m.method !== 'string') return { kind: 'invalid', reason: 'Invalid Request: method', id };
    if (m.params !== undefined && (typeof m.params !== 'object' || m.params === null)) {
      return { kind: 'invalid', reason: 'Invalid Request: params must be an object', id };
    }
    if (!('id' in m)) return { kind: 'notification', message: m as unknown as JSONRPCNotification };
    if (id === null) return { kind: 'invalid', reason: 'Invalid Request: id', id: null };
    return { kind: 'request', message: m as unknown as JSONRPCRequest };
  }
  if (id !== null && ('result' in m || 'error' in m)) return { kind: 'response' };
  return { kind: 'invalid', reason: 'Invalid Request: not a request, notification or response', id };
}

// A client sends the same Accept on every request: remember the last answer instead of splitting it again.
let lastAccept: string | undefined;
let lastAccepted = false;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The params shape of the two methods whose mistakes the SDK would answer as -32603 "internal error" with a
 * raw zod dump: a client's mistake gets -32602 with one readable sentence instead.
 */
export function paramsProblem(request: JSONRPCRequest): string | undefined {
  const params: unknown = request.params;
  if (request.method === 'tools/call') {
    if (!isObject(params) || typeof params.name !== 'string')
      return 'tools/call needs params.name (a string)';
    if (params.arguments !== undefined && !isObject(params.arguments))
      return 'tools/call params.arguments must be an object';
  }
  if (request.method === 'initialize') {
    if (!isObject(params) || typeof params.protocolVersion !== 'string')
      return 'initialize needs params.protocolVersion (a string)';
    if (!isObject(params.capabilities)) return 'initialize needs params.capabilities (an object)';
    const info = params.clientInfo;
    if (!isObject(info) || typeof info.name !== 'string' || typeof info.version !== 'string')
      return 'initialize needs params.clientInfo with name and version (strings)';
  }
  return undefined;
}

/** `Accept` must allow both JSON and an event stream (spec: the client MUST list both); wildcards count. */
export function acceptsMcpResponses(accept: string): boolean {
  if (accept === lastAccept) return lastAccepted;
  lastAccepted = parseAccept(accept);
  lastAccept = accept;
  return lastAccepted;
}

function parseAccept(accept: string): boolean {
  const types = accept
    .toLowerCase()
    .split(',')
    .map((part) => part.split(';')[0]?.trim() ?? '');
  const has = (type: string, family: string) =>
    types.includes(type) || types.includes(`${family}/*`) || types.includes('*/*');
  return has('application/json', 'application') && has('text/event-stream', 'text');
}

export function createMcpRoute(options: McpRouteOptions): McpRoute {
  const limit = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const transport = new MultiplexTransport();
  const { metrics } = options;

  async function admit(
    ctx: ParameterizedContext<AppState>,
    subject: string,
    countCall: boolean,
  ): Promise<Admission | 'store_down'> {
    try {
      return await options.store.admit(subject, countCall);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      metrics.storeErrors.inc({ mode: options.storeFailureMode });
      ctx.state.log.warn({ reason: error.message, mode: options.storeFailureMode }, 'store unavailable');
      return 'store_down';
    }
  }

  const post: Middleware<AppState> = async function mcpPost(ctx) {
    const verified = ctx.state.auth;
    if (!verified) throw new Error('mcpPost reached without bearerAuth');

    if (!acceptsMcpResponses(ctx.get('accept'))) {
      return jsonRpcError(
        ctx,
        406,
        SERVER_ERROR,
        'Not Acceptable: Accept must list application/json and text/event-stream',
        null,
      );
    }
    // MCP spec §Protocol Version Header: an invalid or unsupported version → 400. Absent: the client
    // predates the header (2025-03-26 is assumed), which we accept.
    const version = ctx.get('mcp-protocol-version');
    if (version && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      return jsonRpcError(
        ctx,
        400,
        SERVER_ERROR,
        `Bad Request: unsupported MCP-Protocol-Version ${JSON.stringify(version.slice(0, 40))}; supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
        null,
      );
    }

    let body: unknown;
    try {
      body = await readJsonBody(ctx.req, limit);
    } catch (error) {
      if (!(error instanceof RequestBodyError)) throw error;
      // The rest of an oversized body is never read: close the connection once the 413 is out.
      if (error.status === 413) ctx.set('Connection', 'close');
      return jsonRpcError(
        ctx,
        error.status,
        error.status === 400 ? PARSE_ERROR : SERVER_ERROR,
        error.message,
        null,
      );
    }

    const incoming = classifyJsonRpc(body);
    if (incoming.kind === 'invalid')
      return jsonRpcError(ctx, 400, INVALID_REQUEST, incoming.reason, incoming.id);

    const request = incoming.kind === 'request' ? incoming.message : undefined;
    const isToolCall = request?.method === 'tools/call';
    const toolName = isToolCall ? (request?.params as { name?: unknown } | undefined)?.name : undefined;
    const access = typeof toolName === 'string' ? options.toolAccess.get(toolName) : undefined;
    const decision = access ? decideToolAccess(access, verified) : undefined;
    const badParams = request ? paramsProblem(request) : undefined;
    // Every well-formed message of an authenticated caller counts against the rate limit — a flood of
    // notifications or of refused calls is a flood too — but only a tool call that will run is counted.
    const admission = await admit(ctx, verified.subject, decision?.allowed === true && !badParams);
    if (admission !== 'store_down') {
      if (admission.limit > 0) setRateLimitHeaders(ctx, admission);
      if (!admission.allowed) {
        metrics.rateLimited.inc();
        if (isToolCall)
          metrics.toolCalls.inc({ tool: access ? (toolName as string) : 'unknown', outcome: 'rate_limited' });
        ctx.set('Retry-After', String(admission.resetSeconds));
        return jsonRpcError(
          ctx,
          429,
          SERVER_ERROR,
          `Too Many Requests: ${admission.limit} requests per window; retry in ${admission.resetSeconds} s`,
          request?.id ?? null,
        );
      }
    }

    if (incoming.kind === 'response') {
      ctx.status = 202; // we never send requests to clients in stateless mode: nothing to match it with
      ctx.body = '';
      return;
    }
    if (incoming.kind === 'notification') {
      // Only notifications/initialized reaches the shared server. notifications/cancelled in particular must
      // not: its requestId would name the server's internal ids, i.e. any caller's request. Without sessions a
      // client cancels by closing its HTTP request, which cancels that request alone (see below).
      if (incoming.message.method === 'notifications/initialized') {
        transport.notify(incoming.message, authInfoFor(verified, null));
      }
      ctx.status = 202; // spec: notifications and responses are accepted with 202 and no body
      ctx.body = '';
      return;
    }
    if (!request) throw new Error('unreachable: a JSON-RPC message that is no request');
    if (badParams) return jsonRpcError(ctx, 200, INVALID_PARAMS, `Invalid params: ${badParams}`, request.id);

    if (isToolCall) {
      if (!access || !decision) {
        // Fail closed: a tool without a declared access rule is never dispatched.
        metrics.toolCalls.inc({ tool: 'unknown', outcome: 'unknown_tool' });
        return jsonRpcError(
          ctx,
          200,
          INVALID_PARAMS,
          `Unknown tool: ${JSON.stringify(String(toolName).slice(0, 64))}`,
          request.id,
        );
      }
      if (!decision.allowed) {
        metrics.toolCalls.inc({ tool: toolName as string, outcome: decision.reason });
        ctx.state.authFailure = decision.reason;
        if (decision.reason === 'insufficient_scope') {
          // RFC 6750 §3.1 + MCP spec §Scope Challenge Handling: 403 with the scopes this call needs, so
          // the client can step up (re-authorize with them) and retry.
          ctx.set(
            'WWW-Authenticate',
            wwwAuthenticate({
              resourceMetadataUrl: options.resourceMetadataUrl,
              scope: decision.scope,
              error: 'insufficient_scope',
              errorDescription: `the ${String(toolName)} tool needs the scopes: ${decision.scope}`,
            }),
          );
          return jsonRpcError(
            ctx,
            403,
            FORBIDDEN,
            `Forbidden: the ${String(toolName)} tool needs the scopes ${decision.scope}`,
            request.id,
          );
        }
        // A missing role is not fixed by a new token: no step-up challenge, or clients would loop.
        return jsonRpcError(
          ctx,
          403,
          FORBIDDEN,
          `Forbidden: the ${String(toolName)} tool needs the realm role(s) ${decision.missing.join(', ')}`,
          request.id,
        );
      }
    }

    let callCount: number | null = null;
    if (admission === 'store_down') {
      if (isToolCall && options.storeFailureMode === 'closed') {
        metrics.toolCalls.inc({ tool: toolName as string, outcome: 'store_unavailable' });
        ctx.status = 200;
        ctx.body = {
          jsonrpc: '2.0',
          id: request.id,
          result: {
            isError: true,
            content: [
              {
                type: 'text',
                text: 'The usage store is unavailable; the call was not run. Try again shortly.',
              },
            ],
          },
        };
        return;
      }
    } else {
      callCount = admission.count;
    }

    const started = isToolCall ? performance.now() : 0;
    const pending = transport.request(request, authInfoFor(verified, callCount));
    ctx.res.once('close', () => {
      if (!ctx.res.writableFinished) pending.cancel();
    });
    const answer = await pending.answer;
    if (isToolCall) {
      const tool = toolName as string;
      metrics.toolCallDuration.observe({ tool }, (performance.now() - started) / 1000);
      const outcome =
        answer.error !== undefined
          ? 'error'
          : (answer.result as { isError?: boolean } | undefined)?.isError
            ? 'tool_error'
            : 'ok';
      metrics.toolCalls.inc({ tool, outcome });
    }
    ctx.status = 200;
    ctx.body = answer;
  };

  return {
    post,
    start: () => options.server.connect(transport),
    close: () => options.server.close(),
  };
}

/** draft-ietf-httpapi-ratelimit-headers: the policy and what is left of it. */
function setRateLimitHeaders(ctx: ParameterizedContext, admission: Admission): void {
  ctx.set('RateLimit-Policy', `"per-subject";q=${admission.limit};w=${admission.windowSeconds}`);
  ctx.set('RateLimit', `"per-subject";r=${admission.remaining};t=${admission.resetSeconds}`);
}

/** GET (server-initiated SSE stream) and DELETE (end session) mean nothing without sessions. */
export function mcpMethodNotAllowed(): Middleware<AppState> {
  return async function mcpMethodNotAllowed(ctx) {
    ctx.set('Allow', 'POST');
    jsonRpcError(ctx, 405, SERVER_ERROR, 'Method not allowed: this server is stateless, use POST', null);
  };
}

function jsonRpcError(
  ctx: ParameterizedContext,
  status: number,
  code: number,
  message: string,
  id: RequestId | null,
): void {
  ctx.status = status;
  ctx.body = { jsonrpc: '2.0', error: { code, message }, id };
}
