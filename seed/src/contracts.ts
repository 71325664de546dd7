// The names the realm (realm-export/), the seed and the MCP server agree on, and the stack card's types: the
// contracts other workspaces import as @mcp-keycloak-stack/seed/contracts (docs/ARCHITECTURE.md, "Contracts").
// The MCP server's image carries only its own sources, so mcp-server/src/mcp/toolAccess.ts keeps its copy of the
// names; mcp-server/test/unit/contracts.test.ts holds it to these.

/** Scope every MCP request needs (the audience mapper puts the MCP URL in aud with it). */
export const TOOLS_SCOPE = 'mcp:tools';
/** Scope for admin tools; the realm grants it only to holders of ADMIN_ROLE. */
export const ADMIN_SCOPE = 'mcp:admin';
/** Realm role an admin tool additionally requires. */
export const ADMIN_ROLE = 'mcp-admin';
/** The OIDC scope that gives an offline (restart-surviving) refresh token. */
export const OFFLINE_ACCESS_SCOPE = 'offline_access';
/** The client scopes the realm must have for the MCP server to work. */
export const REQUIRED_CLIENT_SCOPES = [TOOLS_SCOPE, ADMIN_SCOPE] as const;
/**
 * The confidential client the gateway exchanges a caller's token with (RFC 8693) for upstreams whose identity is
 * token-exchange; the seed creates it only when one does, and writes its secret into the card (`gateway`).
 */
export const GATEWAY_CLIENT_ID = 'mcp-gateway';

export type { StackCard, StackUpstream, StackUser } from './stackCard.ts';
