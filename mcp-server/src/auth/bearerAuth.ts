// Koa middleware: lets a request through only with a valid access token that satisfies the request-level rule
// (the required scope). The decision is authorize.ts's and the challenge protectedResource.ts's; this file
// only reads the token and writes the OAuth answer (RFC 6750 §3: 401/403 with a JSON error body).
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { logThrottle } from '../logThrottle.ts';
import { authorize, unauthenticated, type AccessRule, type Decision } from './authorize.ts';
import { AuthError, type AuthErrorCode } from './errors.ts';
import { readBearerToken } from './readBearerToken.ts';
import type { VerifiedToken } from './verifiedToken.ts';
import type { AccessTokenVerifier } from './verifyAccessToken.ts';

export interface BearerAuthOptions {
  verifier: AccessTokenVerifier;
  /** What every request needs (the required scope); without it → 403 insufficient_scope (step-up). */
  rule: AccessRule;
  /** Turns a refusal into its `WWW-Authenticate` value (ProtectedResource.challenge). */
  challenge: (decision: Decision) => string | undefined;
  /**
   * The resource this route serves: the token's `aud` must contain it. The verifier accepts any resource of
   * the server (the built-in one and every upstream), so a token for upstream A is refused at B here.
   */
  audience?: string;
  /** Told every outcome: 'ok' or the reason code (metrics). */
  onOutcome?: (outcome: 'ok' | AuthErrorCode) => void;
}

export interface BearerAuthState {
  /** Set on success; the raw token is deliberately not kept here. */
  auth?: VerifiedToken;
  /** Set on failure, for the access log. */
  authFailure?: AuthErrorCode | 'origin_not_allowed';
  log?: Logger;
}

/** While tokens cannot be checked (signing keys or introspection unreachable): one warning per this period. */
export const UNAVAILABLE_LOG_PERIOD_MS = 10_000;

// The `error` of the JSON body; the header follows RFC 6750 §3.1 (no error code when no token was sent).
const BODY_ERROR: Partial<Record<AuthErrorCode, string>> = {
  token_missing: 'unauthorized',
  insufficient_scope: 'insufficient_scope',
};

export function bearerAuth(options: BearerAuthOptions): Middleware<BearerAuthState> {
  const report = options.onOutcome ?? (() => {});
  const warnUnavailable = logThrottle(UNAVAILABLE_LOG_PERIOD_MS);

  return async function bearerAuth(ctx, next) {
    let verified: VerifiedToken | undefined;
    let decision: Decision;
    try {
      const token = readBearerToken(ctx.get('authorization'));
      if (token === undefined) throw new AuthError('token_missing', 'a bearer token is required');
      verified = await options.verifier(token);
      if (options.audience !== undefined && !verified.audiences.includes(options.audience))
        throw new AuthError('audience_mismatch', 'token audience is not this resource');
      decision = authorize(verified, options.rule);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      decision = unauthenticated(error, options.rule);
    }
    if (decision.allowed) {
      report('ok');
      ctx.state.auth = verified;
      return next();
    }
    report(decision.code);
    ctx.state.authFailure = decision.code;
    ctx.set('Cache-Control', 'no-store');
    if (decision.status === 503) {
      // Trade-off: RFC 6750 would make every failure a 401, but a 401 here tells a client with a good token
      // to throw it away and log in again, which cannot help while we cannot check tokens. 503 says "retry".
      // Every request fails the same way while the keys cannot be had: one line per period, not a stack each.
      const { cause, code } = decision;
      warnUnavailable((suppressed) =>
        ctx.state.log?.warn(
          { err: cause, ...(suppressed > 0 && { suppressed }) },
          suppressed > 0
            ? `${code}; answering 503 (and to ${suppressed} more requests since the last line)`
            : `${code}; answering 503`,
        ),
      );
      ctx.status = 503;
      ctx.set('Retry-After', '5');
      ctx.body = {
        error: 'temporarily_unavailable',
        error_description: 'tokens cannot be checked right now, retry',
      };
      return;
    }
    ctx.status = decision.status;
    const challenge = options.challenge(decision);
    if (challenge) ctx.set('WWW-Authenticate', challenge);
    ctx.body = { error: BODY_ERROR[decision.code] ?? 'invalid_token', error_description: decision.message };
  };
}
