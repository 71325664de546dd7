// What every third-party client's authorization request to Keycloak must look like for this stack.
import assert from 'node:assert/strict';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { keycloakAdmin } from './consoleClient.ts';

/** The scopes a client asks for when it follows the server's metadata (scopes_supported) plus a refresh token. */
export const METADATA_SCOPES_WITH_REFRESH = ['mcp:admin', 'mcp:tools', 'offline_access'];

/**
 * Keycloak's authorization endpoint, PKCE S256 with a well-formed challenge (RFC 7636 §4.2), the MCP URL as
 * the RFC 8707 `resource`, and exactly `scopes` (in any order).
 */
export function assertMcpAuthorizationRequest(url: URL, card: StackCard, scopes: readonly string[]): void {
  assert.equal(url.origin + url.pathname, `${card.issuer}/protocol/openid-connect/auth`);
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  assert.match(url.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.equal(url.searchParams.get('resource'), card.mcpUrl);
  assert.deepEqual(url.searchParams.get('scope')?.split(' ').sort(), [...scopes].sort());
}

/** Notes the client of an authorization request in `ids` when DCR made it (a seeded preset is not noted). */
export function noteRegisteredClient(card: StackCard, url: URL, ids: string[]): string {
  const clientId = url.searchParams.get('client_id') ?? '';
  const presetIds = Object.values(card.clients.presets ?? {}).map((p) => p.clientId);
  if (!presetIds.includes(clientId)) ids.push(clientId);
  return clientId;
}

/** After the tests: the clients they registered through DCR go, so reruns do not pile them up in Keycloak. */
export async function deleteRegisteredClients(
  card: StackCard | undefined,
  ids: readonly string[],
): Promise<void> {
  if (!card || ids.length === 0) return;
  const admin = await keycloakAdmin(card);
  for (const clientId of ids) {
    const [found] = await admin.clients.find({ clientId });
    if (found?.id) await admin.clients.del({ id: found.id });
  }
}
