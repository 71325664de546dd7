// Koa middleware: lets a request through only with a valid access token carrying the required scope.
// Challenges follow RFC 6750 §3 and the MCP authorization spec (2025-11-25): 401 with resource_metadata
// (RFC 9728 §5.1) and the scope to ask for; `error="invalid_token"` only when a token was sent.
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { AuthError, UNAVAILABLE_CODES, type AuthErrorCode } from './errors.ts';
import { wwwAuthenticate } from './protectedResource.ts';
import { readBearerToken } from './readBearerToken.ts';
import type { VerifiedToken } from './verifiedToken.ts';
import type { AccessTokenVerifier } from './verifyAccessToken.ts';

export interface BearerAuthOptions {
  verifier: AccessTokenVerifier;
  /** Sent in every challenge so a client can discover the authorization server (RFC 9728 §5.1). */
  resourceMetadataUrl: string;
  /** Every request needs this scope; without it → 403 insufficient_scope so the client can step up. */
  requiredScope: string;
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

// The `error` of the JSON body; the header follows RFC 6750 §3.1 (no error code when no token was sent).
const BODY_ERROR: Partial<Record<AuthErrorCode, string>> = {
  token_missing: 'unauthorized',
  insufficient_scope: 'insufficient_scope',
};

export function bearerAuth(options: BearerAuthOptions): Middleware<BearerAuthState> {
  const report = options.onOutcome ?? (() => {});
  const challenge = (error?: AuthError) =>
    wwwAuthenticate({
      resourceMetadataUrl: options.resourceMetadataUrl,
      scope: options.requiredScope,
      ...(error && error.code !== 'token_missing'
        ? {
            error: error.code === 'insufficient_scope' ? 'insufficient_scope' : 'invalid_token',
            errorDescription: error.message,
          }
        : {}),
    });

  return async function bearerAuth(ctx, next) {
    let verified: VerifiedToken;
    try {
      const token = readBearerToken(ctx.get('authorization'));
      if (token === undefined) throw new AuthError('token_missing', 'a bearer token is required');
      verified = await options.verifier(token);
      if (!verified.scopes.includes(options.requiredScope)) {
        throw new AuthError('insufficient_scope', `the token lacks the ${options.requiredScope} scope`);
      }
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      report(error.code);
      ctx.state.authFailure = error.code;
      ctx.set('Cache-Control', 'no-store');
      if (UNAVAILABLE_CODES.has(error.code)) {
        // Trade-off: RFC 6750 would make every failure a 401, but a 401 here tells a client with a good token
        // to throw it away and log in again, which cannot help while we cannot check tokens. 503 says "retry".
        ctx.state.log?.warn({ err: error.cause ?? error }, `${error.code}; answering 503`);
        ctx.status = 503;
        ctx.set('Retry-After', '5');
        ctx.body = {
          error: 'temporarily_unavailable',
          error_description: 'tokens cannot be checked right now, retry',
        };
        return;
      }
      ctx.status = error.code === 'insufficient_scope' ? 403 : 401;
      ctx.set('WWW-Authenticate', challenge(error));
      ctx.body = { error: BODY_ERROR[error.code] ?? 'invalid_token', error_description: error.message };
      return;
    }
    report('ok');
    ctx.state.auth = verified;
    await next();
  };
}
