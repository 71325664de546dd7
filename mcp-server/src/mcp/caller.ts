// How the verified token travels into tool handlers: bearerAuth's result → the SDK's AuthInfo (handed to
// the server by MultiplexTransport with each request) → `extra.authInfo` in every handler → ToolCall.
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { VerifiedToken } from '../auth/verifiedToken.ts';

/** Who is calling a tool, as tools see it: the verified token without its raw claims. No raw token in here. */
export type Caller = Omit<VerifiedToken, 'claims' | 'audiences'>;

/** What the route learnt before the tool ran. */
export interface ToolCall {
  caller: Caller;
  /** The caller's tool-call count including this call; null when the store was down (fail-open mode). */
  callCount: number | null;
}

interface RequestExtra {
  caller: Caller;
  callCount: number | null;
}

/**
 * The SDK's AuthInfo type requires a `token` field; we never hand the raw token to the SDK or tools, so it
 * carries a fixed marker instead (tools act on the verified identity, and the token is never forwarded).
 */
export function authInfoFor(verified: VerifiedToken, callCount: number | null): AuthInfo {
  const caller: Caller = {
    subject: verified.subject,
    username: verified.username,
    clientId: verified.clientId,
    scopes: verified.scopes,
    roles: verified.roles,
    expiresAt: verified.expiresAt,
  };
  const extra: RequestExtra = { caller, callCount };
  return {
    token: '[verified]',
    clientId: verified.clientId,
    scopes: verified.scopes,
    expiresAt: verified.expiresAt,
    extra: extra as unknown as Record<string, unknown>,
  };
}

/** Throws if the request was not authenticated: tools are only reachable behind bearerAuth. */
export function toolCallOf(authInfo: AuthInfo | undefined): ToolCall {
  const extra = authInfo?.extra as Partial<RequestExtra> | undefined;
  if (!extra?.caller) throw new Error('tool called without authentication (is /mcp behind bearerAuth?)');
  return { caller: extra.caller, callCount: extra.callCount ?? null };
}
