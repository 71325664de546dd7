// How the verified token travels into tool handlers: bearerAuth's result → the SDK's AuthInfo (on the raw
// request, where StreamableHTTPServerTransport picks it up) → `extra.authInfo` in every handler → Caller.
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { VerifiedToken } from '../auth/verifyAccessToken.ts';

/** Who is calling a tool, as tools see it. No raw token in here. */
export interface Caller {
  subject: string;
  username: string | null;
  clientId: string;
  scopes: string[];
  expiresAt: number;
}

interface CallerExtra {
  subject: string;
  username: string | null;
}

/** The SDK requires the raw token in AuthInfo; this is the only other place it is put. */
export function authInfoFor(token: string, verified: VerifiedToken): AuthInfo {
  const extra: CallerExtra = { subject: verified.subject, username: verified.username };
  return {
    token,
    clientId: verified.clientId,
    scopes: [...verified.scopes],
    expiresAt: verified.expiresAt,
    extra: { ...extra },
  };
}

/** Throws if the request was not authenticated: tools are only reachable behind bearerAuth. */
export function callerOf(authInfo: AuthInfo | undefined): Caller {
  const extra = authInfo?.extra as Partial<CallerExtra> | undefined;
  if (!authInfo || typeof extra?.subject !== 'string') {
    throw new Error('tool called without authentication (is /mcp behind bearerAuth?)');
  }
  return {
    subject: extra.subject,
    username: extra.username ?? null,
    clientId: authInfo.clientId,
    scopes: [...authInfo.scopes],
    expiresAt: authInfo.expiresAt ?? 0,
  };
}
