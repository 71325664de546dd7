// Verifies an OAuth 2.1 access token issued by the authorization server (Keycloak) for this resource.
// jose only; knows nothing of HTTP frameworks.
import {
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type CompactJWSHeaderParameters,
  type FlattenedJWSInput,
  type JWTPayload,
} from 'jose';
import { AuthError } from './errors.ts';

export interface AccessTokenVerifierOptions {
  /** Expected `iss`, compared exactly (the public issuer, even when keys come from an internal URL). */
  issuer: string;
  /** Expected `aud`: the canonical resource URL. The token's `aud` (string or array) must contain it. */
  audience: string;
  /** JWKS endpoint. Fetched lazily, cached, refetched when a token names an unknown `kid`. */
  jwksUrl: string | URL;
  /** Allowed JWS algorithms, e.g. ['RS256']. Checked before any key is looked up. */
  algorithms: readonly string[];
  clockToleranceSeconds: number;
  /** Minimum time between two JWKS refetches caused by unknown `kid`s (jose's cooldown). Default 30 s. */
  jwksCooldownMs?: number;
  /** How long a fetched JWKS is trusted before it is fetched again. Default 10 min. */
  jwksCacheMaxAgeMs?: number;
  /** Timeout of one JWKS fetch. Default 3 s. */
  jwksTimeoutMs?: number;
}

export interface VerifiedToken {
  subject: string;
  /** `preferred_username`; service accounts have one too in Keycloak, other issuers may not. */
  username: string | null;
  /** `azp`, else `client_id` (RFC 9068). */
  clientId: string;
  scopes: string[];
  /** `exp`, epoch seconds. */
  expiresAt: number;
  claims: Readonly<JWTPayload>;
}

export interface AccessTokenVerifier {
  (token: string): Promise<VerifiedToken>;
  /** Readiness: resolves when signing keys are cached and fresh, or can be fetched now. */
  checkKeys(): Promise<void>;
}

// RFC 9068 asks for `at+jwt`; Keycloak sends `JWT`; many issuers send nothing. Anything else (an ID token
// typed `id+jwt`, a logout token, …) is a different kind of JWT and must not open the door.
const ACCEPTED_TYPES = new Set(['jwt', 'at+jwt']);

/**
 * Creates the access token verifier.
 *
 * Validated: JWS signature with a key from the JWKS (by `kid`, algorithm from the allow-list only), `typ`,
 * `iss` (exact), `aud` (contains the resource), `exp` (required), `nbf` (if present), with the clock
 * tolerance; `sub` and a client id (`azp`/`client_id`) must be present.
 *
 * NOT validated: revocation (no introspection: a revoked token stays valid until `exp`), `jti` replay,
 * `iat` age, `auth_time`/`acr`, sender constraints (DPoP/mTLS `cnf`), and which client obtained the token
 * (any client of the issuer whose token carries our audience is accepted). Scopes are only parsed here;
 * enforcing them is the caller's job.
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl), {
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
    cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
    timeoutDuration: options.jwksTimeoutMs ?? 3_000,
  });
  const algorithms = [...options.algorithms];

  async function resolveKey(header: CompactJWSHeaderParameters, token: FlattenedJWSInput) {
    // Checked before the key lookup so a token of the wrong kind never triggers a JWKS fetch.
    const typ: unknown = header.typ;
    if (typ !== undefined && (typeof typ !== 'string' || !ACCEPTED_TYPES.has(mediaType(typ)))) {
      throw new AuthError('token_type_not_allowed', 'token type (typ) is not an access token');
    }
    try {
      return await jwks(header, token);
    } catch (cause) {
      if (cause instanceof errors.JWKSNoMatchingKey || cause instanceof errors.JWKSMultipleMatchingKeys)
        throw cause;
      // Timeouts, refused connections, non-200 answers, unparsable or invalid key sets: our problem, not the
      // client's. Kept apart so the caller can answer 503 instead of telling the client to log in again.
      throw new AuthError('jwks_unavailable', 'signing keys are unavailable', { cause });
    }
  }

  async function verifyAccessToken(token: string): Promise<VerifiedToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, resolveKey, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms,
        clockTolerance: options.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (cause) {
      throw toAuthError(cause);
    }
    return toVerifiedToken(payload);
  }

  return Object.assign(verifyAccessToken, {
    async checkKeys() {
      if (jwks.fresh) return;
      try {
        await jwks.reload();
      } catch (cause) {
        throw new AuthError('jwks_unavailable', 'signing keys are unavailable', { cause });
      }
    },
  });
}

/** RFC 7515 §4.1.9: `typ` may omit the `application/` prefix and is compared case-insensitively. */
function mediaType(typ: string): string {
  return typ.toLowerCase().replace(/^application\//, '');
}

function toVerifiedToken(payload: JWTPayload): VerifiedToken {
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
    expiresAt: payload.exp as number, // required above, and jose checked it is a number
    claims: Object.freeze({ ...payload }),
  };
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `scope` is a space-separated string (RFC 9068 §2.2.3); some issuers send an `scp` array instead. */
function parseScopes(payload: JWTPayload): string[] {
  if (typeof payload.scope === 'string') return payload.scope.split(' ').filter(Boolean);
  if (Array.isArray(payload.scp)) return payload.scp.filter((s): s is string => typeof s === 'string');
  return [];
}

function toAuthError(cause: unknown): AuthError {
  if (cause instanceof AuthError) return cause;
  if (cause instanceof errors.JWTExpired) return new AuthError('token_expired', 'token expired', { cause });
  if (cause instanceof errors.JWTClaimValidationFailed) {
    switch (cause.claim) {
      case 'iss':
        return new AuthError('issuer_mismatch', 'token issuer is not trusted here', { cause });
      case 'aud':
        return new AuthError('audience_mismatch', 'token audience is not this resource', { cause });
      case 'nbf':
        return cause.reason === 'check_failed'
          ? new AuthError('token_not_yet_valid', 'token is not valid yet', { cause })
          : new AuthError('claim_invalid', 'token nbf claim is invalid', { cause });
      default:
        return new AuthError(
          'claim_invalid',
          `token ${cause.claim} claim is ${cause.reason === 'missing' ? 'missing' : 'invalid'}`,
          { cause },
        );
    }
  }
  if (cause instanceof errors.JOSEAlgNotAllowed || cause instanceof errors.JOSENotSupported) {
    return new AuthError('algorithm_not_allowed', 'token signing algorithm is not allowed', { cause });
  }
  if (cause instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthError('signature_invalid', 'token signature is invalid', { cause });
  }
  if (cause instanceof errors.JWKSNoMatchingKey || cause instanceof errors.JWKSMultipleMatchingKeys) {
    return new AuthError('key_not_found', 'token was signed with an unknown key', { cause });
  }
  if (cause instanceof errors.JWSInvalid || cause instanceof errors.JWTInvalid) {
    return new AuthError('token_malformed', 'token is not a well-formed signed JWT', { cause });
  }
  // Any other jose error is about the token's shape (e.g. an unusable key in the header); anything else
  // is a bug and must not turn into a 401 silently.
  if (cause instanceof errors.JOSEError) {
    return new AuthError('token_malformed', 'token could not be processed', { cause });
  }
  throw cause;
}
