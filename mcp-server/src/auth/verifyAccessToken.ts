// Verifies an OAuth 2.1 access token issued by the authorization server (Keycloak) for this resource.
// jose only; knows nothing of HTTP frameworks.
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type CompactJWSHeaderParameters,
  type FlattenedJWSInput,
  type JWTPayload,
} from 'jose';
import { accessTokenPolicy, enforceAccessTokenPolicy, type AccessTokenPolicy } from './accessTokenPolicy.ts';
import { AuthError } from './errors.ts';
import { TokenCache } from './tokenCache.ts';
import { toVerifiedToken, type VerifiedToken } from './verifiedToken.ts';

export interface AccessTokenVerifierOptions {
  /** Expected `iss`, compared exactly (the public issuer, even when keys come from an internal URL). */
  issuer: string;
  /** JWKS endpoint of `issuer`. Fetched lazily, cached, refetched when a token names an unknown `kid`. */
  jwksUrl: string | URL;
  /** More trusted issuers (other realms), each with its own key set. `iss` must match one exactly. */
  moreIssuers?: readonly { issuer: string; jwksUrl: string | URL }[];
  /**
   * Expected `aud`: the canonical resource URL, or every resource this server serves (the gateway's
   * upstreams); the token's `aud` must contain one. Which one a route needs, bearerAuth checks.
   */
  audience: string | readonly string[];
  /** Allowed JWS algorithms, e.g. ['RS256']. Checked before any key is looked up. */
  algorithms: readonly string[];
  clockToleranceSeconds: number;
  /** Token kind, clients, service accounts and lifetime, checked after the signature (accessTokenPolicy.ts).
   * Default: access tokens of any client, no service account, no lifetime cap. */
  policy?: AccessTokenPolicy;
  /** Minimum time between two JWKS refetches caused by unknown `kid`s (jose's cooldown). Default 30 s. */
  jwksCooldownMs?: number;
  /** How long a fetched JWKS is trusted before it is fetched again. Default 10 min. */
  jwksCacheMaxAgeMs?: number;
  /** Timeout of one JWKS fetch. Default 3 s. */
  jwksTimeoutMs?: number;
  /** Verified tokens remembered by SHA-256 (see tokenCache.ts); 0 or absent turns the cache off. */
  tokenCacheSize?: number;
  /** Told the outcome of every verification (metrics). */
  onOutcome?: (outcome: VerifyOutcome) => void;
}

export type VerifyOutcome = { ok: true; cached: boolean } | { ok: false; code: AuthError['code'] };

export interface AccessTokenVerifier {
  (token: string): Promise<VerifiedToken>;
  /** Readiness: resolves when signing keys are cached and fresh, or can be fetched now. */
  checkKeys(): Promise<void>;
}

// RFC 9068 asks for `at+jwt`; Keycloak sends `JWT`; many issuers send nothing. Anything else (an ID token
// typed `id+jwt`, a logout token, …) is a different kind of JWT and must not open the door.
const ACCEPTED_TYPES = new Set(['jwt', 'at+jwt']);

type RemoteKeySet = ReturnType<typeof createRemoteJWKSet>;

interface CachedToken {
  verified: VerifiedToken;
  keySet: RemoteKeySet;
  kid: string | undefined;
}

/**
 * Creates the access token verifier.
 *
 * Validated: `iss` against the allow-list (exact; decides which key set is used, so a token from an
 * untrusted issuer never triggers a fetch), JWS signature with a key from that issuer's JWKS (by `kid`,
 * algorithm from the allow-list only), `typ`, `aud` (contains the resource), `exp` (required), `nbf`
 * (if present), with the clock tolerance; `sub` and a client id (`azp`/`client_id`) must be present; then
 * the shared access-token policy: payload `typ` Bearer, allowed clients, service-account clients, lifetime.
 *
 * Cache: a verified token is remembered (by hash) until its `exp`, and trusted again only while its
 * issuer's key set is fresh (younger than `jwksCacheMaxAgeMs`) and still publishes its `kid`; otherwise it
 * is verified again from scratch, which refetches the keys. A key removed at the issuer therefore stops
 * working at most `jwksCacheMaxAgeMs` after its removal.
 *
 * NOT validated: revocation (use introspection mode for that: a revoked token stays valid until `exp`,
 * which the lifetime cap keeps short), `jti` replay, `iat` age, `auth_time`/`acr`, sender constraints (DPoP/mTLS `cnf`). Scopes and roles are
 * only parsed here; enforcing them is the caller's job.
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const cacheMaxAge = options.jwksCacheMaxAgeMs ?? 600_000;
  const keySets = new Map<string, RemoteKeySet>();
  for (const { issuer, jwksUrl } of [
    { issuer: options.issuer, jwksUrl: options.jwksUrl },
    ...(options.moreIssuers ?? []),
  ]) {
    keySets.set(
      issuer,
      createRemoteJWKSet(new URL(jwksUrl), {
        cooldownDuration: options.jwksCooldownMs ?? 30_000,
        cacheMaxAge,
        timeoutDuration: options.jwksTimeoutMs ?? 3_000,
      }),
    );
  }
  const algorithms = [...options.algorithms];
  const policy = options.policy ?? accessTokenPolicy({});
  const cache = new TokenCache<CachedToken>(options.tokenCacheSize ?? 0);
  const report = options.onOutcome ?? (() => {});

  function keyResolver(keySet: RemoteKeySet) {
    return async function resolveKey(header: CompactJWSHeaderParameters, token: FlattenedJWSInput) {
      // Checked before the key lookup so a token of the wrong kind never triggers a JWKS fetch.
      const typ: unknown = header.typ;
      if (typ !== undefined && (typeof typ !== 'string' || !ACCEPTED_TYPES.has(mediaType(typ)))) {
        throw new AuthError('token_type_not_allowed', 'token type (typ) is not an access token');
      }
      try {
        return await keySet(header, token);
      } catch (cause) {
        if (cause instanceof errors.JWKSNoMatchingKey || cause instanceof errors.JWKSMultipleMatchingKeys)
          throw cause;
        // Timeouts, refused connections, non-200 answers, unparsable or invalid key sets: our problem, not
        // the client's. Kept apart so the caller can answer 503 instead of telling the client to log in.
        throw new AuthError('jwks_unavailable', 'signing keys are unavailable', { cause });
      }
    };
  }
  const resolvers = new Map([...keySets].map(([issuer, keySet]) => [issuer, keyResolver(keySet)]));

  // The kids each key set publishes, read at most once a second: jose's jwks() returns a structuredClone of
  // the whole set, too costly for every cache hit. A reload is seen within that second.
  const publishedKids = new Map<RemoteKeySet, { kids: (string | undefined)[]; readAtMs: number }>();
  function kidsOf(keySet: RemoteKeySet): (string | undefined)[] {
    const now = Date.now();
    let seen = publishedKids.get(keySet);
    if (!seen || now - seen.readAtMs >= 1_000) {
      seen = { kids: (keySet.jwks()?.keys ?? []).map((k) => k.kid), readAtMs: now };
      publishedKids.set(keySet, seen);
    }
    return seen.kids;
  }

  function stillTrusted(entry: CachedToken): boolean {
    if (!entry.keySet.fresh) return false;
    const kids = kidsOf(entry.keySet);
    return entry.kid === undefined ? kids.length === 1 : kids.includes(entry.kid);
  }

  async function verifyFully(token: string): Promise<CachedToken> {
    // Which issuer? Read `iss` unverified only to pick the key set; jwtVerify then checks it again.
    let issuer: unknown;
    let kid: string | undefined;
    try {
      issuer = decodeJwt(token).iss;
      kid = decodeProtectedHeader(token).kid;
      if (kid !== undefined && typeof kid !== 'string') throw new TypeError('kid is not a string');
    } catch (cause) {
      // Not only jose's errors: a header that is valid base64url JSON but not an object (`[1]`, `null`)
      // makes jose throw a plain TypeError. Whatever the reason, the client sent something that is no JWT.
      if (cause instanceof errors.JOSEError) throw toAuthError(cause);
      throw new AuthError('token_malformed', 'token is not a well-formed signed JWT', { cause });
    }
    // No `iss` at all: verify against the first issuer, so the token fails for what it really lacks.
    if (typeof issuer !== 'string') issuer = options.issuer;
    const keySet = keySets.get(issuer as string);
    const resolveKey = resolvers.get(issuer as string);
    if (!keySet || !resolveKey) {
      throw new AuthError('issuer_mismatch', 'token issuer is not trusted here');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, resolveKey, {
        issuer: issuer as string,
        audience: options.audience as string | string[],
        algorithms,
        clockTolerance: options.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (cause) {
      throw toAuthError(cause);
    }
    const verified = toVerifiedToken(payload);
    enforceAccessTokenPolicy(verified, payload, policy);
    return { verified, keySet, kid };
  }

  async function verifyAccessToken(token: string): Promise<VerifiedToken> {
    const key = options.tokenCacheSize ? TokenCache.keyOf(token) : '';
    if (key) {
      const hit = cache.get(key);
      if (hit && stillTrusted(hit)) {
        report({ ok: true, cached: true });
        return hit.verified;
      }
      if (hit) cache.delete(key);
    }
    let entry: CachedToken;
    try {
      entry = await verifyFully(token);
    } catch (error) {
      if (error instanceof AuthError) report({ ok: false, code: error.code });
      throw error;
    }
    // A full verification may have reloaded the key set: read its kids afresh on the next hit.
    publishedKids.delete(entry.keySet);
    if (key) cache.set(key, entry, entry.verified.expiresAt * 1000);
    report({ ok: true, cached: false });
    return entry.verified;
  }

  return Object.assign(verifyAccessToken, {
    async checkKeys() {
      for (const keySet of keySets.values()) {
        if (keySet.fresh) continue;
        try {
          await keySet.reload();
        } catch (cause) {
          throw new AuthError('jwks_unavailable', 'signing keys are unavailable', { cause });
        }
      }
    },
  });
}

/** RFC 7515 §4.1.9: `typ` may omit the `application/` prefix and is compared case-insensitively. */
function mediaType(typ: string): string {
  return typ.toLowerCase().replace(/^application\//, '');
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
