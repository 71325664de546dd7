// What differs between OpenLDAP and Active Directory for Keycloak's LDAP provider (SEED_LDAP_VENDOR): the login
// name attribute, the object classes, the stable id Keycloak links imported users by, and how group membership
// is looked up.
export type LdapVendor = 'openldap' | 'ad';

export interface VendorProfile {
  /** Keycloak's own vendor value: it picks the default mappers it creates with the provider. */
  keycloakVendor: 'other' | 'ad';
  usernameAttribute: string;
  rdnAttribute: string;
  uuidAttribute: string;
  userObjectClasses: string;
  groupObjectClasses: string;
  /** How the group mapper finds a user's groups. */
  groupsStrategy: string;
}

export function vendorProfile(vendor: LdapVendor): VendorProfile {
  if (vendor === 'ad') {
    return {
      keycloakVendor: 'ad',
      usernameAttribute: 'sAMAccountName',
      rdnAttribute: 'cn',
      uuidAttribute: 'objectGUID',
      userObjectClasses: 'person, organizationalPerson, user',
      groupObjectClasses: 'group',
      // Nested groups too (LDAP_MATCHING_RULE_IN_CHAIN, an Active Directory extension).
      groupsStrategy: 'LOAD_GROUPS_BY_MEMBER_ATTRIBUTE_RECURSIVELY',
    };
  }
  return {
    keycloakVendor: 'other',
    usernameAttribute: 'uid',
    rdnAttribute: 'uid',
    uuidAttribute: 'entryUUID',
    userObjectClasses: 'inetOrgPerson, organizationalPerson',
    groupObjectClasses: 'groupOfNames',
    groupsStrategy: 'LOAD_GROUPS_BY_MEMBER_ATTRIBUTE',
  };
}
