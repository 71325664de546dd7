// The verified-token type both verifiers (JWT and introspection) produce, and how claims become one.
import type { JWTPayload } from 'jose';
import { AuthError } from './errors.ts';

export interface VerifiedToken {
  subject: string;
  /** `preferred_username`; service accounts have one too in Keycloak, other issuers may not. */
  username: string | null;
  /** `azp`, else `client_id` (RFC 9068). */
  clientId: string;
  scopes: string[];
  /** Realm roles (`realm_access.roles`, Keycloak); empty when the token has none. */
  roles: string[];
  /** `aud` as a list: bearerAuth checks the route's own resource is in it (one audience per upstream). */
  audiences: readonly string[];
  /** `exp`, epoch seconds. */
  expiresAt: number;
  claims: Readonly<JWTPayload>;
}

export function toVerifiedToken(payload: JWTPayload): VerifiedToken {
  const clientId = stringClaim(payload.azp) ?? stringClaim(payload.client_id);
  if (clientId === undefined)
    throw new AuthError('claim_invalid', 'token names no client (azp or client_id)');
  const subject = stringClaim(payload.sub);
  if (subject === undefined) throw new AuthError('claim_invalid', 'token has no subject (sub)');
  return {
    subject,
    username: stringClaim(payload.preferred_username) ?? null,
    clientId,
    scopes: parseScopes(payload),
    roles: parseRealmRoles(payload),
    audiences:
      typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [],
    expiresAt: payload.exp as number, // required above, and jose checked it is a number
    claims: Object.freeze({ ...payload }),
  };
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * `scope` only, a space-separated string (RFC 9068 §2.2.3). An `scp` claim is not read: Keycloak never writes
 * one, so one could only come from a protocol mapper someone else configured.
 */
function parseScopes(payload: JWTPayload): string[] {
  return typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
}

function parseRealmRoles(payload: JWTPayload): string[] {
  const realmAccess = payload.realm_access as { roles?: unknown } | undefined;
  const roles = realmAccess && typeof realmAccess === 'object' ? realmAccess.roles : undefined;
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
}
