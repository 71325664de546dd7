// What a tool requires, declared next to its registration (tools/*.ts). target.ts compiles each declaration
// into an AccessRule once; auth/authorize.ts decides it before the SDK runs anything. The names below are the
// contract of @mcp-keycloak-stack/seed/contracts (the realm's scopes and role), copied because the server's image
// carries only its own sources; test/unit/contracts.test.ts holds them equal.

/** Scope every MCP request needs (MCP_REQUIRED_SCOPE stands in for it, see createMcpServer.ts). */
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
