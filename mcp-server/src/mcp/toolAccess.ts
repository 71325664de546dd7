// Per-tool authorization, decided from the verified token before the SDK runs anything (MCP authorization
// spec 2025-11-25 §Scope Challenge Handling, RFC 6750 §3.1 insufficient_scope).
import type { VerifiedToken } from '../auth/verifiedToken.ts';

/** Scope every MCP request needs (DESIGN §3). */
export const TOOLS_SCOPE = 'mcp:tools';
/** Scope for admin tools; Keycloak grants it only to users with the realm role below. */
export const ADMIN_SCOPE = 'mcp:admin';
/** Realm role an admin tool additionally requires, so a token is not enough where the scope is not. */
export const ADMIN_ROLE = 'mcp-admin';

export interface ToolAccess {
  /** Every one of these scopes must be in the token. */
  scopes: readonly string[];
  /** Every one of these realm roles (`realm_access.roles`) must be in the token. */
  roles: readonly string[];
}

export type AccessDecision =
  | { allowed: true }
  /** A token with more scope would do: 403 with a step-up challenge naming `scope`. */
  | { allowed: false; reason: 'insufficient_scope'; scope: string; missing: string[] }
  /** The user lacks a role: no new token can help, so no step-up challenge. */
  | { allowed: false; reason: 'role_missing'; missing: string[] };

export function decideToolAccess(
  access: ToolAccess,
  token: Pick<VerifiedToken, 'scopes' | 'roles'>,
): AccessDecision {
  const missingScopes = access.scopes.filter((s) => !token.scopes.includes(s));
  if (missingScopes.length > 0) {
    // The challenge names every scope the call needs (RFC 6750 §3.1 "the scope necessary to access the
    // requested resource"), in the tool's declared order, not just the missing ones, so a client that
    // re-authorizes with exactly this list keeps what the call also needs.
    return {
      allowed: false,
      reason: 'insufficient_scope',
      scope: access.scopes.join(' '),
      missing: missingScopes,
    };
  }
  const missingRoles = access.roles.filter((r) => !token.roles.includes(r));
  if (missingRoles.length > 0) return { allowed: false, reason: 'role_missing', missing: missingRoles };
  return { allowed: true };
}
