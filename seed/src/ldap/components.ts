// The realm components the seed owns for the directory: Keycloak's LDAP user storage provider and the group mapper
// that brings the admin group in (its members get mcp-admin through the Keycloak group of the same name).
import type ComponentRepresentation from '@keycloak/keycloak-admin-client/lib/defs/componentRepresentation.js';
import type { LdapSettings } from './settings.ts';

export const USER_STORAGE_TYPE = 'org.keycloak.storage.UserStorageProvider';
export const MAPPER_TYPE = 'org.keycloak.storage.ldap.mappers.LDAPStorageMapper';
/** The provider's name in the realm: how the seed finds it again (and the admin console shows it). */
export const PROVIDER_NAME = 'corporate-directory';
export const ADMIN_GROUP_MAPPER_NAME = 'mcp-admin group';

const one = (value: string | boolean | number) => [String(value)];

/** The LDAP provider: users imported on demand at their first login, a changed-users sync every hour. */
export function providerComponent(settings: LdapSettings, realmId: string): ComponentRepresentation {
  const { profile } = settings;
  return {
    name: PROVIDER_NAME,
    providerId: 'ldap',
    providerType: USER_STORAGE_TYPE,
    parentId: realmId,
    config: {
      enabled: one(true),
      priority: one(0),
      vendor: one(profile.keycloakVendor),
      connectionUrl: one(settings.url),
      startTls: one(settings.startTls),
      // The truststore of Keycloak (KC_TRUSTSTORE_PATHS) holds the private CA of ldaps:// and StartTLS.
      useTruststoreSpi: one('always'),
      // Keycloak refuses pooled connections with StartTLS.
      connectionPooling: one(!settings.startTls),
      connectionTimeout: one(5000),
      readTimeout: one(10000),
      authType: one('simple'),
      bindDn: one(settings.bindDn),
      bindCredential: one(settings.bindPassword),
      usersDn: one(settings.usersDn),
      usernameLDAPAttribute: one(profile.usernameAttribute),
      rdnLDAPAttribute: one(profile.rdnAttribute),
      uuidLDAPAttribute: one(profile.uuidAttribute),
      userObjectClasses: one(profile.userObjectClasses),
      customUserSearchFilter: [],
      searchScope: one(2), // subtree
      pagination: one(true),
      editMode: one(settings.editMode),
      importEnabled: one(true),
      syncRegistrations: one(false),
      batchSizeForSync: one(1000),
      fullSyncPeriod: one(-1),
      changedSyncPeriod: one(3600),
      cachePolicy: one('DEFAULT'),
      trustEmail: one(false),
      allowKerberosAuthentication: one(false),
      useKerberosForPasswordAuthentication: one(false),
      validatePasswordPolicy: one(false),
    },
  };
}

/** Escapes a value for an LDAP search filter (RFC 4515). */
export function filterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Only the admin group, read from the directory (never written to it): Keycloak shows it as a group of the
 * same name, whose members are the LDAP group's; the seed gives that group the realm role mcp-admin.
 */
export function adminGroupMapper(
  settings: LdapSettings,
  group: { groupsDn: string; cn: string },
  providerId: string,
): ComponentRepresentation {
  const { profile } = settings;
  return {
    name: ADMIN_GROUP_MAPPER_NAME,
    providerId: 'group-ldap-mapper',
    providerType: MAPPER_TYPE,
    parentId: providerId,
    config: {
      'groups.dn': one(group.groupsDn),
      'groups.ldap.filter': one(`(cn=${filterValue(group.cn)})`),
      'group.name.ldap.attribute': one('cn'),
      'group.object.classes': one(profile.groupObjectClasses),
      'preserve.group.inheritance': one(false),
      'ignore.missing.groups': one(false),
      'membership.ldap.attribute': one('member'),
      'membership.attribute.type': one('DN'),
      'membership.user.ldap.attribute': one(profile.usernameAttribute),
      'memberof.ldap.attribute': one('memberOf'),
      'user.roles.retrieve.strategy': one(profile.groupsStrategy),
      'mapped.group.attributes': [],
      'drop.non.existing.groups.during.sync': one(false),
      'groups.path': one('/'),
      mode: one('READ_ONLY'),
    },
  };
}
