// RFC 7662 token introspection: the alternative to local JWT verification for deployments that need a
// revoked token (logout, disabled user, revoked consent) to stop working at once rather than at `exp`.
// Every request costs a round trip to the authorization server; nothing is cached, by design.
// The token goes only to the issuer's own introspection endpoint, authenticated as a confidential client.
import { basicAuthorization } from './basicAuthorization.ts';
import type { JWTPayload } from 'jose';
import { accessTokenPolicy, enforceAccessTokenPolicy, type AccessTokenPolicy } from './accessTokenPolicy.ts';
import { AuthError } from './errors.ts';
import { toVerifiedToken, type VerifiedToken } from './verifiedToken.ts';
import type { AccessTokenVerifier, VerifyOutcome } from './verifyAccessToken.ts';

export interface IntrospectionOptions {
  /** The introspection endpoint, e.g. `<issuer>/protocol/openid-connect/token/introspect` on Keycloak. */
  url: string;
  clientId: string;
  clientSecret: string;
  /** Expected `iss` of active tokens (RFC 7662 §2.2 lets the AS return it; Keycloak does). */
  issuer: string;
  /** Required in `aud`: an active token for another resource is still not ours (RFC 7662 §4). */
  audience: string | readonly string[];
  clockToleranceSeconds: number;
  /** Token kind, clients, service accounts and lifetime (accessTokenPolicy.ts), as in JWT mode. */
  policy?: AccessTokenPolicy;
  timeoutMs?: number;
  onOutcome?: (outcome: VerifyOutcome) => void;
}

/**
 * Validated: the AS says `active: true`; `iss` equals the issuer; `aud` contains our resource; `exp` is
 * present and not past (with tolerance); `sub` and a client id exist; then the shared access-token policy
 * (payload `typ` Bearer, allowed clients, service accounts, lifetime cap). NOT validated locally: the signature (the AS vouches for the token).
 */
export function createIntrospectionVerifier(options: IntrospectionOptions): AccessTokenVerifier {
  const authorization = basicAuthorization(options.clientId, options.clientSecret);
  const report = options.onOutcome ?? (() => {});
  const policy = options.policy ?? accessTokenPolicy({});
  const audiences = typeof options.audience === 'string' ? [options.audience] : options.audience;

  async function introspect(token: string): Promise<JWTPayload & { active?: unknown }> {
    let response: Response;
    try {
      response = await fetch(options.url, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 3_000),
      });
    } catch (cause) {
      throw new AuthError('introspection_unavailable', 'token introspection is unavailable', { cause });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new AuthError(
        'introspection_unavailable',
        `token introspection answered HTTP ${response.status}`,
      );
    }
    try {
      return (await response.json()) as JWTPayload & { active?: unknown };
    } catch (cause) {
      throw new AuthError('introspection_unavailable', 'token introspection answered no JSON', { cause });
    }
  }

  function check(info: JWTPayload & { active?: unknown }): VerifiedToken {
    if (info.active !== true) throw new AuthError('token_inactive', 'token is not active');
    if (info.iss !== options.issuer) {
      throw new AuthError('issuer_mismatch', 'token issuer is not trusted here');
    }
    const aud = Array.isArray(info.aud) ? info.aud : [info.aud];
    if (!audiences.some((wanted) => aud.includes(wanted))) {
      throw new AuthError('audience_mismatch', 'token audience is not this resource');
    }
    if (typeof info.exp !== 'number') throw new AuthError('claim_invalid', 'token exp claim is missing');
    if (info.exp + options.clockToleranceSeconds < Date.now() / 1000) {
      throw new AuthError('token_expired', 'token expired');
    }
    const verified = toVerifiedToken(info);
    // RFC 7662 §2.2 puts `client_id` (and `username`) in every answer, for user tokens too; in a JWT Keycloak
    // writes `client_id` only into service-account tokens. The policy reads claims, so it gets the token's.
    const { client_id: _clientId, username: _username, ...claims } = info;
    enforceAccessTokenPolicy(verified, claims, policy);
    return verified;
  }

  async function verifyByIntrospection(token: string): Promise<VerifiedToken> {
    try {
      const verified = check(await introspect(token));
      report({ ok: true, cached: false });
      return verified;
    } catch (error) {
      if (error instanceof AuthError) report({ ok: false, code: error.code });
      throw error;
    }
  }

  return Object.assign(verifyByIntrospection, {
    async checkKeys() {
      // Reachability only: an empty POST without credentials is answered (401/400) by a live endpoint.
      try {
        const response = await fetch(options.url, {
          method: 'POST',
          signal: AbortSignal.timeout(options.timeoutMs ?? 3_000),
        });
        await response.body?.cancel();
        if (response.status >= 500) throw new Error(`HTTP ${response.status}`);
      } catch (cause) {
        throw new AuthError('introspection_unavailable', 'token introspection is unavailable', { cause });
      }
    },
  });
}
