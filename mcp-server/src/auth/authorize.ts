// The one authorization decision: given what a request or a tool requires (an AccessRule) and the
// verification outcome, allow or refuse — 401 (no or bad token), 403 (scope or role missing) or 503 (tokens
// cannot be checked now) — with the scopes a client should ask for. Free of HTTP: protectedResource.ts turns
// a decision into the challenge, bearerAuth and the MCP route into their answers.
import { UNAVAILABLE_CODES, type AuthError, type AuthErrorCode } from './errors.ts';
import type { VerifiedToken } from './verifiedToken.ts';

/** What a token must carry. Built once at startup; per-request work is two array scans. */
export interface AccessRule {
  /** Scopes checked by this rule (those an enclosing rule already checked are left out, see `within`). */
  readonly scopes: readonly string[];
  /** Realm roles (`realm_access.roles`) that must all be in the token. */
  readonly roles: readonly string[];
  /**
   * Every scope the resource needs, space-separated, in declared order: what a challenge asks for (RFC 6750
   * §3.1), so a client that re-authorizes with exactly this list keeps what the call also needs.
   */
  readonly scope: string;
  /** The challenge's `error_description` when a scope is missing. */
  readonly insufficientScope: string;
}

export function accessRule(options: {
  scopes: readonly string[];
  roles?: readonly string[];
  /**
   * A rule already decided for the same request (bearerAuth's, for a tool's): its scopes are named in the
   * challenge but not checked again.
   */
  within?: AccessRule;
  insufficientScope: string;
}): AccessRule {
  const checked = new Set(options.within?.scopes);
  return {
    scopes: options.scopes.filter((scope) => !checked.has(scope)),
    roles: options.roles ?? [],
    scope: options.scopes.join(' '),
    insufficientScope: options.insufficientScope,
  };
}

export type Decision =
  | { readonly allowed: true }
  /** No token, or one that failed verification: the client should (re-)authenticate. */
  | { readonly allowed: false; status: 401; code: AuthErrorCode; message: string; scope: string }
  /** A token with more scope would do: 403 with a step-up challenge naming `scope`. */
  | {
      readonly allowed: false;
      status: 403;
      code: 'insufficient_scope';
      message: string;
      scope: string;
      missing: string[];
    }
  /** The user lacks a role: no new token can help, so no step-up challenge (clients would loop). */
  | { readonly allowed: false; status: 403; code: 'role_missing'; message: string; missing: string[] }
  /** Keys or introspection unreachable: the server's problem, so "retry", never "throw your token away". */
  | { readonly allowed: false; status: 503; code: AuthErrorCode; message: string; cause: unknown };

export type Refused = Exclude<Decision, { allowed: true }>;

// One shared object: the allowed path, taken on every request, allocates nothing.
export const ALLOW: Decision = Object.freeze({ allowed: true });

export function authorize(token: Pick<VerifiedToken, 'scopes' | 'roles'>, rule: AccessRule): Decision {
  for (const scope of rule.scopes) {
    if (!token.scopes.includes(scope)) {
      return {
        allowed: false,
        status: 403,
        code: 'insufficient_scope',
        message: rule.insufficientScope,
        scope: rule.scope,
        missing: rule.scopes.filter((s) => !token.scopes.includes(s)),
      };
    }
  }
  for (const role of rule.roles) {
    if (!token.roles.includes(role)) {
      const missing = rule.roles.filter((r) => !token.roles.includes(r));
      return {
        allowed: false,
        status: 403,
        code: 'role_missing',
        message: `needs the realm role(s) ${missing.join(', ')}`,
        missing,
      };
    }
  }
  return ALLOW;
}

/** The decision when verification failed (`token_missing` when no token was sent). */
export function unauthenticated(error: AuthError, rule: AccessRule): Refused {
  if (UNAVAILABLE_CODES.has(error.code)) {
    return {
      allowed: false,
      status: 503,
      code: error.code,
      message: error.message,
      cause: error.cause ?? error,
    };
  }
  return { allowed: false, status: 401, code: error.code, message: error.message, scope: rule.scope };
}
