// What a correctly signed token must still be to open the door here: an access token (not an ID, refresh or
// logout token), issued to an accepted client, no longer-lived than the issuer's own setting, and — when it
// has no user behind it — from a machine client the operator named. Shared by both verifiers (JWT and
// introspection), so the rules cannot drift apart. Pure: no I/O, no framework.
import type { JWTPayload } from 'jose';
import { AuthError } from './errors.ts';
import type { VerifiedToken } from './verifiedToken.ts';

export interface AccessTokenPolicy {
  /** When set, only tokens whose client (`azp`/`client_id`) is listed are accepted. */
  readonly allowedClients: ReadonlySet<string> | null;
  /** Clients whose service-account (client_credentials) tokens are accepted; every other one is refused. */
  readonly serviceAccountClients: ReadonlySet<string>;
  /** Longest accepted lifetime (`exp - iat`), seconds; 0 turns the cap off. */
  readonly maxLifetimeSeconds: number;
}

export function accessTokenPolicy(options: {
  allowedClients?: readonly string[] | null;
  serviceAccountClients?: readonly string[];
  maxLifetimeSeconds?: number;
}): AccessTokenPolicy {
  return Object.freeze({
    allowedClients: options.allowedClients ? new Set(options.allowedClients) : null,
    serviceAccountClients: new Set(options.serviceAccountClients ?? []),
    maxLifetimeSeconds: options.maxLifetimeSeconds ?? 0,
  });
}

// Keycloak writes `typ` into every token it signs: `Bearer` for access tokens, `ID`, `Refresh`, `Offline`,
// `Logout` for the others — all signed by the same key with the same issuer, some with our audience.
const ACCESS_TOKEN_TYP = 'bearer';

// Keycloak reads the clock for `iat` and for `exp` at different instants: a 300 s token can say 301 (seen).
const LIFETIME_SLACK_SECONDS = 5;

/**
 * A token with no user behind it. Keycloak marks client_credentials tokens three ways: the `client_id`
 * claim (its service_account scope), the reserved `service-account-<client>` username, and no user session
 * (`sid`). Any one is enough: a false positive only refuses a token, a false negative would let a
 * self-registered machine client in.
 */
export function isServiceAccountToken(payload: JWTPayload): boolean {
  const username = payload.preferred_username;
  return (
    payload.client_id !== undefined ||
    (typeof username === 'string' && username.startsWith('service-account-')) ||
    payload.sid === undefined
  );
}

/** Throws the AuthError that says why the token must not be accepted; returns when it may be. */
export function enforceAccessTokenPolicy(
  verified: VerifiedToken,
  payload: JWTPayload,
  policy: AccessTokenPolicy,
): void {
  const typ = payload.typ;
  if (typeof typ !== 'string' || typ.toLowerCase() !== ACCESS_TOKEN_TYP) {
    throw new AuthError('token_type_not_allowed', 'token is not an access token (typ is not Bearer)');
  }
  if (policy.allowedClients && !policy.allowedClients.has(verified.clientId)) {
    throw new AuthError('client_not_allowed', 'token was issued to a client not allowed here');
  }
  if (isServiceAccountToken(payload) && !policy.serviceAccountClients.has(verified.clientId)) {
    throw new AuthError(
      'client_not_allowed',
      'service-account tokens are accepted only from the configured machine clients',
    );
  }
  if (policy.maxLifetimeSeconds > 0) {
    if (typeof payload.iat !== 'number') {
      throw new AuthError('claim_invalid', 'token iat claim is missing');
    }
    if (verified.expiresAt - payload.iat > policy.maxLifetimeSeconds + LIFETIME_SLACK_SECONDS) {
      throw new AuthError('token_lifetime_too_long', 'token lives longer than this server accepts');
    }
  }
}
