import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import { TOOLS_SCOPE } from '../contracts.ts';
import { SeedError } from '../errors.ts';

/**
 * A confidential machine-to-machine client: client_credentials only, with mcp:tools as a default scope so its
 * tokens carry the MCP audience without asking. Keycloak keeps the secret; re-runs read it back instead of
 * rotating it, so a seed re-run never breaks a running integration.
 */
export async function ensureM2mClient(
  admin: KcAdminClient,
  clientId: string,
  scopeIds: Map<string, string>,
): Promise<{ clientId: string; clientSecret: string; created: boolean }> {
  const wanted: ClientRepresentation = {
    clientId,
    name: 'MCP machine-to-machine client',
    description: 'Seeded by mcp-keycloak-stack: client_credentials access to the MCP tools',
    enabled: true,
    protocol: 'openid-connect',
    publicClient: false,
    clientAuthenticatorType: 'client-secret',
    serviceAccountsEnabled: true,
    standardFlowEnabled: false,
    implicitFlowEnabled: false,
    directAccessGrantsEnabled: false,
    fullScopeAllowed: false,
  };
  const [existing] = await admin.clients.find({ clientId });
  let id = existing?.id;
  const created = !id;
  if (!id) id = (await admin.clients.create(wanted)).id;
  else await admin.clients.update({ id }, wanted);

  const mcpTools = scopeIds.get(TOOLS_SCOPE);
  if (!mcpTools) throw new SeedError('realm_incomplete', 'client scope mcp:tools is missing');
  // New clients receive the realm's optional scopes, mcp:tools among them; Keycloak ignores adding a scope as
  // default while it is optional, so it is moved.
  const optional = await admin.clients.listOptionalClientScopes({ id });
  if (optional.some((s) => s.id === mcpTools)) {
    await admin.clients.delOptionalClientScope({ id, clientScopeId: mcpTools });
  }
  const defaults = await admin.clients.listDefaultClientScopes({ id });
  if (!defaults.some((s) => s.id === mcpTools)) {
    await admin.clients.addDefaultClientScope({ id, clientScopeId: mcpTools });
  }
  const secret = await admin.clients.getClientSecret({ id });
  if (!secret.value) throw new SeedError('keycloak_request_failed', `client ${clientId} has no secret`);
  return { clientId, clientSecret: secret.value, created };
}
