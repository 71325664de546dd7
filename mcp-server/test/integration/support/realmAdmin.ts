// Clients the integration tests create in the running stack's realm through the admin REST API (bootstrap
// admin from secrets.json), and remove afterwards: a test that needs an admin-capable client with exact
// default/optional scopes makes one here rather than through anonymous DCR.
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { loadAdminCredentials } from '../../e2e/support/stack.ts';
import { adminLogin } from '@mcp-keycloak-stack/seed/adminLogin';

async function adminFor(card: StackCard): Promise<KcAdminClient> {
  const admin = new KcAdminClient({
    baseUrl: card.keycloakAdminUrl ?? card.keycloakUrl,
    realmName: 'master',
  });
  await adminLogin(admin, await loadAdminCredentials());
  admin.setConfig({ realmName: card.realm });
  return admin;
}

async function scopeId(admin: KcAdminClient, name: string): Promise<string> {
  const [scope] = (await admin.clientScopes.find()).filter((s) => s.name === name);
  if (!scope?.id) throw new Error(`realm has no ${name} client scope`);
  return scope.id;
}

/**
 * A public client (code + PKCE, loopback redirect) with mcp:tools and mcp:admin optional, as the seed's own public
 * clients have them: a login names mcp:tools to get a token for /mcp.
 */
export async function createAdminCapableClient(
  card: StackCard,
  redirectUri: string,
): Promise<{ clientId: string; remove(): Promise<void> }> {
  const admin = await adminFor(card);
  const clientId = `it-admin-capable-${crypto.randomUUID().slice(0, 8)}`;
  const { id } = await admin.clients.create({
    clientId,
    publicClient: true,
    standardFlowEnabled: true,
    directAccessGrantsEnabled: false,
    redirectUris: [redirectUri],
    attributes: { 'pkce.code.challenge.method': 'S256' },
  });
  await ensureOptionalScopes(admin, id, ['mcp:tools', 'mcp:admin']);
  return { clientId, remove: () => admin.clients.del({ id }) };
}

/**
 * A confidential client that only introspects tokens (RFC 7662) for the MCP server. Keycloak 26 answers
 * `active: false` unless the introspecting client is in the token's audience ("Client … is not in the token
 * audience"), so its clientId is the canonical resource URL — the `aud` the realm's audience mapper adds.
 */
export async function createIntrospectionClient(
  card: StackCard,
): Promise<{ clientId: string; clientSecret: string; remove(): Promise<void> }> {
  const admin = await adminFor(card);
  const clientId = card.mcpUrl;
  for (const stale of await admin.clients.find({ clientId })) {
    if (stale.id) await admin.clients.del({ id: stale.id }); // left by an interrupted earlier run
  }
  const { id } = await admin.clients.create({
    clientId,
    name: 'MCP server (token introspection, integration test)',
    publicClient: false,
    bearerOnly: false,
    standardFlowEnabled: false,
    serviceAccountsEnabled: false,
    directAccessGrantsEnabled: false,
  });
  const secret = (await admin.clients.getClientSecret({ id })).value ?? '';
  return { clientId, clientSecret: secret, remove: () => admin.clients.del({ id }) };
}

/**
 * A public client (code + PKCE, loopback redirect) that may ask for each of `optionalScopes` (the gateway's
 * upstream scopes, mcp:admin) and for mcp:tools, all optional as the seed's own public clients have them: a token
 * asked for one upstream's scope is for that upstream only.
 */
export async function createPublicClientWithScopes(
  card: StackCard,
  redirectUri: string,
  optionalScopes: readonly string[],
): Promise<{ clientId: string; remove(): Promise<void> }> {
  const admin = await adminFor(card);
  const clientId = `it-gateway-${crypto.randomUUID().slice(0, 8)}`;
  const { id } = await admin.clients.create({
    clientId,
    publicClient: true,
    standardFlowEnabled: true,
    directAccessGrantsEnabled: false,
    redirectUris: [redirectUri],
    attributes: { 'pkce.code.challenge.method': 'S256' },
  });
  await ensureOptionalScopes(admin, id, ['mcp:tools', ...optionalScopes]);
  return { clientId, remove: () => admin.clients.del({ id }) };
}

/** Each named scope optional on the client, none of them default (a default scope's audience is in every token). */
async function ensureOptionalScopes(
  admin: KcAdminClient,
  id: string,
  names: readonly string[],
): Promise<void> {
  const defaults = new Set((await admin.clients.listDefaultClientScopes({ id })).map((s) => s.name));
  const optional = new Set((await admin.clients.listOptionalClientScopes({ id })).map((s) => s.name));
  for (const name of new Set(names)) {
    const clientScopeId = await scopeId(admin, name);
    if (defaults.has(name)) await admin.clients.delDefaultClientScope({ id, clientScopeId });
    if (!optional.has(name)) await admin.clients.addOptionalClientScope({ id, clientScopeId });
  }
}
