// Making the upstream scopes requestable: realm default optional scopes (every new client, self-registered ones
// included, may ask for them), and optional scopes of clients that already exist. Never moves a scope a client or
// the realm already has as a default one, and never takes one away.
import type KcAdminClient from '@keycloak/keycloak-admin-client';

export interface ScopeRef {
  id: string;
  name: string;
}

/** Adds each scope to the realm's default optional client scopes; returns the names added. */
export async function addRealmOptionalScopes(
  admin: KcAdminClient,
  scopes: readonly ScopeRef[],
): Promise<string[]> {
  const defaults = new Set((await admin.clientScopes.listDefaultClientScopes()).map((s) => s.id));
  const optional = new Set((await admin.clientScopes.listDefaultOptionalClientScopes()).map((s) => s.id));
  const added: string[] = [];
  for (const scope of scopes) {
    if (defaults.has(scope.id) || optional.has(scope.id)) continue;
    await admin.clientScopes.addDefaultOptionalClientScope({ id: scope.id });
    added.push(scope.name);
  }
  return added;
}

/**
 * Adds each scope as an optional scope of the client named `clientId`; returns the names added, or undefined when
 * there is no such client (say, a preset left out by SEED_PRESETS).
 */
export async function addClientOptionalScopes(
  admin: KcAdminClient,
  clientId: string,
  scopes: readonly ScopeRef[],
): Promise<string[] | undefined> {
  const [client] = await admin.clients.find({ clientId });
  const id = client?.id;
  if (!id) return undefined;
  const defaults = new Set((await admin.clients.listDefaultClientScopes({ id })).map((s) => s.id));
  const optional = new Set((await admin.clients.listOptionalClientScopes({ id })).map((s) => s.id));
  const added: string[] = [];
  for (const scope of scopes) {
    if (defaults.has(scope.id) || optional.has(scope.id)) continue;
    await admin.clients.addOptionalClientScope({ id, clientScopeId: scope.id });
    added.push(scope.name);
  }
  return added;
}
