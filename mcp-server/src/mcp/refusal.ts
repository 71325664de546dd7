// How every step of the POST /mcp path says "no": a Refusal, i.e. the HTTP status, the JSON-RPC error and
// a stable reason code (tests, logs and a later gateway key on `reason`, not on the sentence). Steps return
// one; the route writes it, so no step needs to know how the others answer.
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { ParameterizedContext } from 'koa';

// JSON-RPC 2.0 §5.1 codes, and the SDK's -32000 for transport-level refusals.
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const INVALID_PARAMS = -32602;
export const SERVER_ERROR = -32000;
/** MCP-specific: the request was understood but refused for this caller (no token can fix it). */
export const FORBIDDEN = -32003;

export type RefusalReason =
  | 'method_not_allowed'
  | 'not_acceptable'
  | 'protocol_version_unsupported'
  | 'unsupported_media_type'
  | 'body_too_large'
  | 'parse_error'
  | 'invalid_request'
  | 'rate_limited'
  | 'invalid_params'
  | 'unknown_tool'
  | 'insufficient_scope'
  | 'role_missing'
  // The gateway's (gateway/upstreamRoute.ts):
  | 'session_required'
  | 'session_not_found'
  | 'tool_not_offered';

export class Refusal {
  constructor(
    readonly reason: RefusalReason,
    readonly status: number,
    readonly code: number,
    readonly message: string,
    readonly id: RequestId | null = null,
    /** Response headers that belong to this refusal (Retry-After, WWW-Authenticate, Connection, …). */
    readonly headers?: Readonly<Record<string, string>>,
  ) {}

  /** Answers the request with this refusal as a JSON-RPC error. */
  answer(ctx: ParameterizedContext): void {
    if (this.headers) ctx.set(this.headers);
    ctx.status = this.status;
    ctx.body = { jsonrpc: '2.0', error: { code: this.code, message: this.message }, id: this.id };
  }
}
