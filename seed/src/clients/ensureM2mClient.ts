import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import { TOOLS_SCOPE } from '../contracts.ts';
import { SeedError } from '../errors.ts';
import { convergeClientScopes } from './clientScopes.ts';

/**
 * A confidential machine-to-machine client: client_credentials only, with mcp:tools as an optional scope: a token
 * is for the built-in /mcp only when asked for it (`scope=mcp:tools`), as one for an upstream only when asked for
 * that upstream's scope. Keycloak keeps the secret; re-runs read it back instead of rotating it, so a seed re-run
 * never breaks a running integration.
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

  // Optional, not default: Keycloak adds a client's default scopes to every token, so a default mcp:tools would put
  // the built-in /mcp in the audience of a token asked only for an upstream (scope=mcp:<name>). A re-run moves it
  // out of the defaults of a client seeded before that.
  await convergeClientScopes(admin, id, scopeIds, { defaults: [], optional: [TOOLS_SCOPE] });
  const secret = await admin.clients.getClientSecret({ id });
  if (!secret.value) throw new SeedError('keycloak_request_failed', `client ${clientId} has no secret`);
  return { clientId, clientSecret: secret.value, created };
}
