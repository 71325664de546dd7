import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { SeedError } from '../errors.ts';

/**
 * Puts each named client scope in the wanted list (default or optional) and takes it out of the other one.
 * New clients receive the realm's default optional scopes (mcp:tools among them), and Keycloak silently ignores
 * adding a scope as default while it is optional: moving is remove-then-add.
 */
export async function convergeClientScopes(
  admin: KcAdminClient,
  id: string,
  scopeIds: Map<string, string>,
  wanted: { defaults: readonly string[]; optional: readonly string[] },
): Promise<void> {
  const idOf = (name: string) => {
    const scopeId = scopeIds.get(name);
    if (!scopeId) throw new SeedError('realm_incomplete', `client scope ${name} is missing from the realm`);
    return scopeId;
  };
  const defaults = new Set((await admin.clients.listDefaultClientScopes({ id })).map((s) => s.id));
  const optional = new Set((await admin.clients.listOptionalClientScopes({ id })).map((s) => s.id));
  for (const name of wanted.defaults) {
    const clientScopeId = idOf(name);
    if (optional.has(clientScopeId)) await admin.clients.delOptionalClientScope({ id, clientScopeId });
    if (!defaults.has(clientScopeId)) await admin.clients.addDefaultClientScope({ id, clientScopeId });
  }
  for (const name of wanted.optional) {
    const clientScopeId = idOf(name);
    if (defaults.has(clientScopeId)) await admin.clients.delDefaultClientScope({ id, clientScopeId });
    if (!optional.has(clientScopeId)) await admin.clients.addOptionalClientScope({ id, clientScopeId });
  }
}
