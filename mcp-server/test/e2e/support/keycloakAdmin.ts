// Realm changes a test needs and then removes: done through the admin REST API, with the bootstrap admin.
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { loadAdminCredentials } from './stack.ts';
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

/** A confidential client whose access tokens live `lifespanSeconds`, with the MCP audience. */
export async function createShortLivedClient(
  card: StackCard,
  lifespanSeconds: number,
): Promise<{ clientId: string; clientSecret: string; remove(): Promise<void> }> {
  const admin = await adminFor(card);
  const clientId = `e2e-short-lived-${crypto.randomUUID().slice(0, 8)}`;
  const { id } = await admin.clients.create({
    clientId,
    publicClient: false,
    serviceAccountsEnabled: true,
    standardFlowEnabled: false,
    attributes: { 'access.token.lifespan': String(lifespanSeconds) },
  });
  const [scope] = (await admin.clientScopes.find()).filter((s) => s.name === 'mcp:tools');
  if (!scope?.id) throw new Error('realm has no mcp:tools scope');
  await admin.clients.delOptionalClientScope({ id, clientScopeId: scope.id });
  await admin.clients.addDefaultClientScope({ id, clientScopeId: scope.id });
  const secret = (await admin.clients.getClientSecret({ id })).value ?? '';
  return { clientId, clientSecret: secret, remove: () => admin.clients.del({ id }) };
}
