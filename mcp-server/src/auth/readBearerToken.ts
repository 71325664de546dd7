// Extracts the token from `Authorization: Bearer <token>` (RFC 6750 §2.1). The only place that parses it.
import { AuthError } from './errors.ts';

// RFC 6750 §2.1 b64token: what a token may look like; anything else cannot be a JWT either.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Returns the token, or `undefined` when the request carries no Bearer credentials at all (no header, or
 * another scheme such as Basic: RFC 6750 §3.1 treats both as "no authentication information").
 * Throws `token_malformed` when the Bearer scheme is used with something that is not a token.
 */
export function readBearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = BEARER.exec(authorization);
  if (match?.[1]) return match[1];
  if (/^Bearer(\s|$)/i.test(authorization)) {
    throw new AuthError('token_malformed', 'Authorization header is not "Bearer <token>"');
  }
  return undefined;
}
