import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { REQUIRED_CLIENT_SCOPES } from './contracts.ts';
import { SeedError } from './errors.ts';

/**
 * The realm itself comes from realm-export/ (imported by Keycloak at start). The seed only checks that the
 * import happened, so a missing or stale realm is reported instead of half-seeded.
 */
export async function checkRealm(admin: KcAdminClient, realm: string): Promise<Map<string, string>> {
  const found = await admin.realms.findOne({ realm });
  if (!found) {
    throw new SeedError(
      'realm_missing',
      `realm "${realm}" does not exist in Keycloak: start Keycloak with --import-realm and realm-export/ ` +
        '(the native launcher and docker-compose.yml both do)',
    );
  }
  const scopes = await admin.clientScopes.find();
  const ids = new Map(scopes.filter((s) => s.name && s.id).map((s) => [s.name as string, s.id as string]));
  const missing = REQUIRED_CLIENT_SCOPES.filter((name) => !ids.has(name));
  if (missing.length > 0) {
    throw new SeedError(
      'realm_incomplete',
      `realm "${realm}" lacks the client scope(s) ${missing.join(', ')}: it was not imported from ` +
        'realm-export/ (delete the realm or the Keycloak data directory and start again)',
    );
  }
  return ids;
}

export async function ensureRealmRole(
  admin: KcAdminClient,
  name: string,
): Promise<{ id: string; name: string }> {
  let role = await admin.roles.findOneByName({ name });
  if (!role) {
    await admin.roles.create({ name, description: 'May call the MCP server admin tools (scope mcp:admin)' });
    role = await admin.roles.findOneByName({ name });
  }
  if (!role?.id) throw new SeedError('keycloak_request_failed', `could not create realm role ${name}`);
  return { id: role.id, name };
}
