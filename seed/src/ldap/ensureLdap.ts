// The seed's directory step: when SEED_LDAP_URL is set, Keycloak is asked to connect and bind first (a failure
// names the setting and changes nothing), then the realm's LDAP provider and its admin-group mapper are created
// or converged, and the Keycloak group the mapper shows for the admin group gets the realm role mcp-admin.
// Idempotent: found again by name, updated in place. Unset: nothing is created and nothing is removed.
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type ComponentRepresentation from '@keycloak/keycloak-admin-client/lib/defs/componentRepresentation.js';
import { SeedError } from '../errors.ts';
import {
  ADMIN_GROUP_MAPPER_NAME,
  adminGroupMapper,
  MAPPER_TYPE,
  PROVIDER_NAME,
  providerComponent,
  USER_STORAGE_TYPE,
} from './components.ts';
import { ldapSettings, type LdapFields, type LdapSettings } from './settings.ts';
import { testLdap } from './testConnection.ts';

export async function ensureLdap(
  admin: KcAdminClient,
  config: LdapFields & { KEYCLOAK_REALM: string },
  adminRole: { id: string; name: string },
  say: (line: string) => void,
): Promise<void> {
  const settings = ldapSettings(config);
  const realm = config.KEYCLOAK_REALM;
  if (!settings) {
    const left = await findProvider(admin, realm);
    say(
      left
        ? `directory: SEED_LDAP_URL is not set; the realm's "${PROVIDER_NAME}" LDAP provider is left as it is`
        : 'directory: SEED_LDAP_URL is not set: no LDAP federation',
    );
    return;
  }
  const problem = await testLdap(admin, realm, settings);
  if (problem) throw new SeedError('ldap_unreachable', problem.message);

  const realmId = (await admin.realms.findOne({ realm }))?.id;
  if (!realmId) throw new SeedError('realm_missing', `realm "${realm}" does not exist`);
  const wanted = providerComponent(settings, realmId);
  let provider = await findProvider(admin, realm);
  let action = 'converged';
  if (
    provider?.config?.vendor?.[0] !== undefined &&
    provider.config.vendor[0] !== wanted.config?.vendor?.[0]
  ) {
    // Keycloak creates a vendor's default mappers with the provider: another vendor means a new provider (the
    // users it imported are imported again at their next login).
    await admin.components.del({ id: provider.id as string });
    provider = undefined;
    action = `re-created for ${settings.vendor}`;
  }
  if (provider?.id) {
    await admin.components.update({ id: provider.id }, { ...wanted, id: provider.id });
  } else {
    await admin.components.create(wanted);
    provider = await findProvider(admin, realm);
    if (!provider?.id) throw new SeedError('keycloak_request_failed', 'the LDAP provider was not created');
    if (action === 'converged') action = 'created';
  }
  const providerId = provider.id as string;
  const group = await ensureAdminGroup(admin, settings, providerId, adminRole);
  say(
    `directory: LDAP ${settings.url} (${settings.vendor}, ${settings.editMode}, users ${settings.usersDn})` +
      (group ? `, group ${group} → ${adminRole.name}` : ', no admin group') +
      ` — ${action}`,
  );
}

async function findProvider(
  admin: KcAdminClient,
  realm: string,
): Promise<ComponentRepresentation | undefined> {
  const realmId = (await admin.realms.findOne({ realm }))?.id;
  const found = await admin.components.find({ type: USER_STORAGE_TYPE, name: PROVIDER_NAME });
  return found.find((c) => c.providerId === 'ldap' && c.parentId === realmId);
}

/** The group mapper (or none, removed), the group synced from LDAP, and its role; the group's name or undefined. */
async function ensureAdminGroup(
  admin: KcAdminClient,
  settings: LdapSettings,
  providerId: string,
  adminRole: { id: string; name: string },
): Promise<string | undefined> {
  const mappers = await admin.components.find({ parent: providerId, type: MAPPER_TYPE });
  const existing = mappers.find((m) => m.name === ADMIN_GROUP_MAPPER_NAME);
  if (!settings.adminGroup) {
    if (existing?.id) await admin.components.del({ id: existing.id });
    return undefined;
  }
  const wanted = adminGroupMapper(settings, settings.adminGroup, providerId);
  let mapperId = existing?.id;
  if (mapperId) {
    await admin.components.update({ id: mapperId }, { ...wanted, id: mapperId });
  } else {
    await admin.components.create(wanted);
    mapperId = (await admin.components.find({ parent: providerId, type: MAPPER_TYPE })).find(
      (m) => m.name === ADMIN_GROUP_MAPPER_NAME,
    )?.id;
    if (!mapperId) throw new SeedError('keycloak_request_failed', 'the LDAP group mapper was not created');
  }
  const { cn, groupsDn } = settings.adminGroup;
  try {
    // Brings the LDAP group into Keycloak now (the members stay in LDAP: the mapper reads them at each login).
    await admin.userStorageProvider.mappersSync({
      parentId: providerId,
      id: mapperId,
      direction: 'fedToKeycloak',
    });
  } catch (error) {
    throw new SeedError(
      'ldap_unreachable',
      `Keycloak could not read the groups under ${groupsDn} (${(error as Error).message}): check SEED_LDAP_GROUPS_DN`,
    );
  }
  const group = (await admin.groups.find({ search: cn, exact: true, briefRepresentation: true })).find(
    (g) => g.name === cn,
  );
  if (!group?.id) {
    throw new SeedError(
      'config_invalid',
      `no group cn=${cn} under ${groupsDn} in the directory: check SEED_LDAP_ADMIN_GROUP and SEED_LDAP_GROUPS_DN`,
    );
  }
  await admin.groups.addRealmRoleMappings({ id: group.id, roles: [adminRole] });
  return cn;
}
