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

/**
 * The realm-role mapper on mcp:admin (realm-export/ has it), added to a realm imported before it had one.
 * Why on the scope: Keycloak gives a client that registers with `scope` (as MCP SDK hosts do, from the resource's
 * scopes_supported) only those client scopes plus `basic` — not `roles`, whose mapper writes realm_access — so
 * an mcp-admin's token for such a host carried no role and the admin tools refused it.
 */
export async function ensureAdminScopeRoles(admin: KcAdminClient, adminScopeId: string): Promise<boolean> {
  const mappers = await admin.clientScopes.listProtocolMappers({ id: adminScopeId });
  if (mappers.some((m) => m.protocolMapper === REALM_ROLE_MAPPER.protocolMapper)) return false;
  await admin.clientScopes.addProtocolMapper({ id: adminScopeId }, REALM_ROLE_MAPPER);
  return true;
}

/** As in realm-export/mcp-realm.json's mcp:admin (and the built-in `roles` scope's "realm roles"). */
export const REALM_ROLE_MAPPER = {
  name: 'realm roles',
  protocol: 'openid-connect',
  protocolMapper: 'oidc-usermodel-realm-role-mapper',
  consentRequired: false,
  config: {
    'introspection.token.claim': 'true',
    multivalued: 'true',
    'access.token.claim': 'true',
    'id.token.claim': 'false',
    'userinfo.token.claim': 'false',
    'claim.name': 'realm_access.roles',
    'jsonType.label': 'String',
  },
};
