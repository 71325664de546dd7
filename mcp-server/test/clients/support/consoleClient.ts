// The console's public client. The seed creates it (`clients.console` in the stack card); on a stack whose seed
// predates that, the test creates an equivalent one through the admin REST API and removes it afterwards.
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { loadAdminCredentials } from '../../e2e/support/stack.ts';
import { adminLogin } from '@mcp-keycloak-stack/seed/adminLogin';

export const CONSOLE_CLIENT_ID = 'mcp-console';

export async function keycloakAdmin(card: StackCard): Promise<KcAdminClient> {
  const admin = new KcAdminClient({
    baseUrl: card.keycloakAdminUrl ?? card.keycloakUrl,
    realmName: 'master',
  });
  await adminLogin(admin, await loadAdminCredentials());
  admin.setConfig({ realmName: card.realm });
  return admin;
}

export async function ensureConsoleClient(
  card: StackCard,
): Promise<{ clientId: string; consoleUrl: string; remove(): Promise<void> }> {
  const origin = new URL(card.mcpUrl).origin;
  const consoleUrl = `${origin}/console/`;
  const seeded = card.clients.console?.clientId;
  if (seeded) return { clientId: seeded, consoleUrl, remove: async () => {} };

  const admin = await keycloakAdmin(card);
  const [existing] = await admin.clients.find({ clientId: CONSOLE_CLIENT_ID });
  if (existing) return { clientId: CONSOLE_CLIENT_ID, consoleUrl, remove: async () => {} };
  const { id } = await admin.clients.create({
    clientId: CONSOLE_CLIENT_ID,
    name: 'MCP browser console (created by the client tests)',
    publicClient: true,
    standardFlowEnabled: true,
    directAccessGrantsEnabled: false,
    fullScopeAllowed: false,
    redirectUris: [consoleUrl, `${consoleUrl}index.html`],
    webOrigins: [origin],
    attributes: { 'pkce.code.challenge.method': 'S256', 'post.logout.redirect.uris': '+' },
  });
  const scopes = await admin.clientScopes.find();
  const present = new Set((await admin.clients.listOptionalClientScopes({ id })).map((s) => s.name));
  for (const name of ['mcp:tools', 'mcp:admin'].filter((n) => !present.has(n))) {
    const scope = scopes.find((s) => s.name === name);
    if (!scope?.id) throw new Error(`realm has no ${name} scope`);
    await admin.clients.addOptionalClientScope({ id, clientScopeId: scope.id });
  }
  return { clientId: CONSOLE_CLIENT_ID, consoleUrl, remove: () => admin.clients.del({ id }) };
}
