// Clients the integration tests create in the running stack's realm through the admin REST API (bootstrap
// admin from secrets.json), and remove afterwards: a test that needs an admin-capable client with exact
// default/optional scopes makes one here rather than through anonymous DCR.
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { loadAdminCredentials } from '../../e2e/support/stack.ts';

async function adminFor(card: StackCard): Promise<KcAdminClient> {
  const admin = new KcAdminClient({ baseUrl: card.keycloakUrl, realmName: 'master' });
  await admin.auth({ grantType: 'password', clientId: 'admin-cli', ...(await loadAdminCredentials()) });
  admin.setConfig({ realmName: card.realm });
  return admin;
}

async function scopeId(admin: KcAdminClient, name: string): Promise<string> {
  const [scope] = (await admin.clientScopes.find()).filter((s) => s.name === name);
  if (!scope?.id) throw new Error(`realm has no ${name} client scope`);
  return scope.id;
}

/** A public client (code + PKCE, loopback redirect) with mcp:tools by default and mcp:admin optional. */
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
  const tools = await scopeId(admin, 'mcp:tools');
  const adminScope = await scopeId(admin, 'mcp:admin');
  await admin.clients.delOptionalClientScope({ id, clientScopeId: tools }).catch(() => {});
  await admin.clients.addDefaultClientScope({ id, clientScopeId: tools });
  await admin.clients.addOptionalClientScope({ id, clientScopeId: adminScope });
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
 * upstream scopes, mcp:admin), with mcp:tools by default as the seed's own public clients have it.
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
  const tools = await scopeId(admin, 'mcp:tools');
  await admin.clients.delOptionalClientScope({ id, clientScopeId: tools }).catch(() => {});
  await admin.clients.addDefaultClientScope({ id, clientScopeId: tools }).catch(() => {});
  const present = new Set((await admin.clients.listOptionalClientScopes({ id })).map((s) => s.name));
  for (const name of optionalScopes.filter((n) => !present.has(n))) {
    await admin.clients.addOptionalClientScope({ id, clientScopeId: await scopeId(admin, name) });
  }
  return { clientId, remove: () => admin.clients.del({ id }) };
}
