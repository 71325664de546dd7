// The Streamable HTTP endpoint (/mcp) in Koa, stateless: every POST gets its own McpServer and transport, so
// any replica can answer any request and no session outlives its HTTP request.
import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Middleware, ParameterizedContext } from 'koa';
import { readBearerToken } from '../auth/readBearerToken.ts';
import type { AppState } from '../http/appState.ts';
import { readJsonBody, RequestBodyError } from '../http/readJsonBody.ts';
import { authInfoFor } from './caller.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface McpRouteOptions {
  /** Builds a fresh server per request (see createMcpServer). */
  createServer: () => McpServer;
  maxBodyBytes?: number;
}

/** POST /mcp, behind bearerAuth. */
export function mcpRoute(options: McpRouteOptions): Middleware<AppState> {
  const limit = options.maxBodyBytes ?? MAX_BODY_BYTES;

  return async function mcpRoute(ctx) {
    const verified = ctx.state.auth;
    const token = readBearerToken(ctx.get('authorization'));
    if (!verified || token === undefined) throw new Error('mcpRoute reached without bearerAuth');

    let body: unknown;
    try {
      body = await readJsonBody(ctx.req, limit);
    } catch (error) {
      if (!(error instanceof RequestBodyError)) throw error;
      // JSON-RPC 2.0 §5.1: -32700 for unparsable JSON; the SDK uses -32000 for transport-level refusals.
      jsonRpcError(ctx, error.status, error.status === 400 ? -32700 : -32000, error.message);
      return;
    }

    const req = ctx.req as IncomingMessage & { auth?: AuthInfo };
    req.auth = authInfoFor(token, verified);

    const server = options.createServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      // Plain JSON answers instead of an SSE stream: a stateless request has nothing to stream after its
      // result, and JSON passes every proxy and curl unchanged. Revisit when tools report progress.
      enableJsonResponse: true,
    });
    ctx.res.once('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    ctx.respond = false; // the transport writes the response on the raw Node objects
    await transport.handleRequest(req, ctx.res, body);
  };
}

/** GET (server-initiated SSE stream) and DELETE (end session) mean nothing without sessions. */
export function mcpMethodNotAllowed(): Middleware<AppState> {
  return async function mcpMethodNotAllowed(ctx) {
    ctx.set('Allow', 'POST');
    jsonRpcError(ctx, 405, -32000, 'Method not allowed: this server is stateless, use POST');
  };
}

function jsonRpcError(ctx: ParameterizedContext, status: number, code: number, message: string): void {
  ctx.status = status;
  ctx.body = { jsonrpc: '2.0', error: { code, message }, id: null };
}
