// SEED_LDAP_*: the corporate directory the realm federates, off unless SEED_LDAP_URL is set. The fields join the
// seed's schema (config.ts); the doctor parses them alone (ldapFromEnv). ldapSettings() turns them into what the
// seed and the doctor use, reading the bind password from its file: never from a variable, never printed.
import { readSecretFile } from '../secretFile.ts';
import { z } from 'zod';
import { SeedError } from '../errors.ts';
import { vendorProfile, type LdapVendor, type VendorProfile } from './vendor.ts';

const LDAP_URL = /^ldaps?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:\d{1,5})?\/?$/;
const dn = (name: string, example: string) =>
  z
    .string()
    .refine((v) => /^[^=,\s]+=[^=]+/.test(v.trim()), `${name} must be a DN such as ${example}`)
    .transform((v) => v.trim())
    .optional();

export const LDAP_FIELDS = {
  /** ldap://host[:port] or ldaps://host[:port]; unset: no directory. */
  SEED_LDAP_URL: z
    .string()
    .refine(
      (v) => LDAP_URL.test(v.trim()) && Number(/:(\d+)\/?$/.exec(v.trim())?.[1] ?? 389) <= 65535,
      'SEED_LDAP_URL must be an ldap:// or ldaps:// URL with a host and an optional port ' +
        '(ldap://ldap.example.org:389, ldaps://dc1.corp.example:636)',
    )
    .transform((v) => v.trim().replace(/\/$/, ''))
    .optional(),
  /** The account Keycloak binds as; Active Directory also takes user@domain. */
  SEED_LDAP_BIND_DN: z
    .string()
    .refine(
      (v) => /^[^=,\s]+=[^=]+/.test(v.trim()) || /^[^@\s]+@[^@\s]+$/.test(v.trim()),
      'SEED_LDAP_BIND_DN must be a DN (cn=keycloak,ou=services,dc=example,dc=org) or, for Active Directory, ' +
        'user@domain',
    )
    .transform((v) => v.trim())
    .optional(),
  /** A file holding the bind password (one line; a final newline is ignored). */
  SEED_LDAP_BIND_PASSWORD_FILE: z.string().min(1).optional(),
  SEED_LDAP_USERS_DN: dn('SEED_LDAP_USERS_DN', 'ou=people,dc=example,dc=org'),
  SEED_LDAP_GROUPS_DN: dn('SEED_LDAP_GROUPS_DN', 'ou=groups,dc=example,dc=org'),
  /** The cn of the LDAP group whose members get the realm role mcp-admin. */
  SEED_LDAP_ADMIN_GROUP: z
    .string()
    .refine(
      (v) => v.trim() !== '' && !/[/\0]/.test(v),
      'SEED_LDAP_ADMIN_GROUP must be the cn of a group (no "/")',
    )
    .transform((v) => v.trim())
    .optional(),
  SEED_LDAP_VENDOR: z
    .enum(['openldap', 'ad'], { error: 'SEED_LDAP_VENDOR must be openldap or ad' })
    .default('openldap'),
  SEED_LDAP_START_TLS: z
    .enum(['true', 'false'], { error: 'SEED_LDAP_START_TLS must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  SEED_LDAP_EDIT_MODE: z
    .enum(['READ_ONLY', 'WRITABLE', 'UNSYNCED'], {
      error: 'SEED_LDAP_EDIT_MODE must be READ_ONLY, WRITABLE or UNSYNCED',
    })
    .default('READ_ONLY'),
};

const ldapObject = z.object(LDAP_FIELDS);
export type LdapFields = z.infer<typeof ldapObject>;

/** The rules between the fields, each issue on the variable to change. */
export function checkLdapFields(value: LdapFields, ctx: z.RefinementCtx): void {
  const issue = (path: keyof LdapFields, message: string) =>
    ctx.addIssue({ code: 'custom', path: [path], message });
  if (!value.SEED_LDAP_URL) {
    for (const name of [
      'SEED_LDAP_BIND_DN',
      'SEED_LDAP_BIND_PASSWORD_FILE',
      'SEED_LDAP_USERS_DN',
      'SEED_LDAP_GROUPS_DN',
      'SEED_LDAP_ADMIN_GROUP',
    ] as const) {
      if (value[name] !== undefined) {
        issue(name, `${name} is set but SEED_LDAP_URL is not: set SEED_LDAP_URL to turn the directory on`);
      }
    }
    return;
  }
  if (!value.SEED_LDAP_BIND_DN)
    issue('SEED_LDAP_BIND_DN', 'SEED_LDAP_BIND_DN is required with SEED_LDAP_URL');
  if (!value.SEED_LDAP_BIND_PASSWORD_FILE) {
    issue(
      'SEED_LDAP_BIND_PASSWORD_FILE',
      'SEED_LDAP_BIND_PASSWORD_FILE is required with SEED_LDAP_URL (a file holding the bind password)',
    );
  }
  if (!value.SEED_LDAP_USERS_DN) {
    issue('SEED_LDAP_USERS_DN', 'SEED_LDAP_USERS_DN is required with SEED_LDAP_URL (where the users are)');
  }
  if (value.SEED_LDAP_ADMIN_GROUP && !value.SEED_LDAP_GROUPS_DN) {
    issue('SEED_LDAP_GROUPS_DN', 'SEED_LDAP_GROUPS_DN is required with SEED_LDAP_ADMIN_GROUP');
  }
  if (value.SEED_LDAP_GROUPS_DN && !value.SEED_LDAP_ADMIN_GROUP) {
    issue(
      'SEED_LDAP_ADMIN_GROUP',
      'SEED_LDAP_ADMIN_GROUP is required with SEED_LDAP_GROUPS_DN (the group mapped to mcp-admin)',
    );
  }
  if (value.SEED_LDAP_START_TLS && value.SEED_LDAP_URL.startsWith('ldaps:')) {
    issue(
      'SEED_LDAP_START_TLS',
      'SEED_LDAP_START_TLS upgrades a plain ldap:// connection: with an ldaps:// SEED_LDAP_URL set it to false',
    );
  }
}

/** The directory as the seed and the doctor use it; the password read from its file. */
export interface LdapSettings {
  url: string;
  bindDn: string;
  bindPassword: string;
  passwordFile: string;
  usersDn: string;
  /** Absent: no LDAP group is mapped to mcp-admin. */
  adminGroup: { groupsDn: string; cn: string } | undefined;
  vendor: LdapVendor;
  profile: VendorProfile;
  startTls: boolean;
  editMode: 'READ_ONLY' | 'WRITABLE' | 'UNSYNCED';
}

/** Undefined when SEED_LDAP_URL is unset (the directory is off); throws a SeedError naming the file otherwise. */
export function ldapSettings(fields: LdapFields): LdapSettings | undefined {
  const url = fields.SEED_LDAP_URL;
  if (!url) return undefined;
  const passwordFile = fields.SEED_LDAP_BIND_PASSWORD_FILE as string;
  return {
    url,
    bindDn: fields.SEED_LDAP_BIND_DN as string,
    bindPassword: readSecretFile('SEED_LDAP_BIND_PASSWORD_FILE', passwordFile),
    passwordFile,
    usersDn: fields.SEED_LDAP_USERS_DN as string,
    adminGroup:
      fields.SEED_LDAP_ADMIN_GROUP && fields.SEED_LDAP_GROUPS_DN
        ? { groupsDn: fields.SEED_LDAP_GROUPS_DN, cn: fields.SEED_LDAP_ADMIN_GROUP }
        : undefined,
    vendor: fields.SEED_LDAP_VENDOR,
    profile: vendorProfile(fields.SEED_LDAP_VENDOR),
    startTls: fields.SEED_LDAP_START_TLS,
    editMode: fields.SEED_LDAP_EDIT_MODE,
  };
}

/** For the doctor: the SEED_LDAP_* variables alone (empty = unset), validated as the seed does. */
export function ldapFromEnv(env: NodeJS.ProcessEnv): LdapSettings | undefined {
  const present: Record<string, string> = {};
  for (const name of Object.keys(LDAP_FIELDS)) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') present[name] = value;
  }
  const parsed = ldapObject.superRefine(checkLdapFields).safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'SEED_LDAP_URL');
    const message = issue?.message ?? 'invalid';
    throw new SeedError('config_invalid', message.includes(variable) ? message : `${variable}: ${message}`);
  }
  return ldapSettings(parsed.data);
}
