// SEED_LDAP_*: validation naming the variable, the password read from its file only, the vendor profiles and
// the components the seed sends Keycloak (the real directory: seed/test/e2e/ldap.e2e.test.ts).
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadSeedConfig } from '../src/config.ts';
import { SeedError } from '../src/errors.ts';
import { adminGroupMapper, filterValue, providerComponent } from '../src/ldap/components.ts';
import { ldapFromEnv, ldapSettings } from '../src/ldap/settings.ts';

const dir = await mkdtemp(join(tmpdir(), 'ldap-settings-'));
const passwordFile = join(dir, 'bind');
await writeFile(passwordFile, 's3cret-bind-password\n');
const base = {
  KEYCLOAK_ADMIN_PASSWORD: 'x',
  SEED_LDAP_URL: 'ldap://ldap.example.org:389',
  SEED_LDAP_BIND_DN: 'cn=keycloak,ou=services,dc=example,dc=org',
  SEED_LDAP_BIND_PASSWORD_FILE: passwordFile,
  SEED_LDAP_USERS_DN: 'ou=people,dc=example,dc=org',
  SEED_LDAP_GROUPS_DN: 'ou=groups,dc=example,dc=org',
  SEED_LDAP_ADMIN_GROUP: 'mcp-admins',
};
const fails = (env: Record<string, string>, pattern: RegExp) =>
  assert.throws(
    () => ldapSettings(loadSeedConfig(env)),
    (e: unknown) => e instanceof SeedError && pattern.test(e.message),
  );

describe('SEED_LDAP_* settings', () => {
  it('off by default: no variable, no directory', () => {
    assert.equal(ldapSettings(loadSeedConfig({ KEYCLOAK_ADMIN_PASSWORD: 'x' })), undefined);
    assert.equal(ldapFromEnv({ SEED_LDAP_URL: '' }), undefined);
  });

  it('reads the password from the file (without its final newline), OpenLDAP and read-only by default', () => {
    const s = ldapSettings(loadSeedConfig(base));
    assert.ok(s);
    assert.equal(s.bindPassword, 's3cret-bind-password');
    assert.equal(s.vendor, 'openldap');
    assert.equal(s.editMode, 'READ_ONLY');
    assert.equal(s.startTls, false);
    assert.deepEqual(s.adminGroup, { groupsDn: 'ou=groups,dc=example,dc=org', cn: 'mcp-admins' });
  });

  it('names the variable for each mistake', () => {
    fails({ ...base, SEED_LDAP_URL: 'http://ldap.example.org' }, /^SEED_LDAP_URL must be an ldap:\/\//);
    fails({ ...base, SEED_LDAP_URL: 'ldap://host:99999' }, /^SEED_LDAP_URL/);
    fails({ ...base, SEED_LDAP_BIND_DN: 'keycloak' }, /^SEED_LDAP_BIND_DN must be a DN/);
    fails({ ...base, SEED_LDAP_BIND_DN: '' }, /SEED_LDAP_BIND_DN is required/);
    fails({ ...base, SEED_LDAP_BIND_PASSWORD_FILE: '' }, /SEED_LDAP_BIND_PASSWORD_FILE is required/);
    fails(
      { ...base, SEED_LDAP_BIND_PASSWORD_FILE: join(dir, 'missing') },
      /SEED_LDAP_BIND_PASSWORD_FILE: cannot read/,
    );
    fails({ ...base, SEED_LDAP_USERS_DN: '' }, /SEED_LDAP_USERS_DN is required/);
    fails({ ...base, SEED_LDAP_GROUPS_DN: '' }, /SEED_LDAP_GROUPS_DN is required with SEED_LDAP_ADMIN_GROUP/);
    fails({ ...base, SEED_LDAP_VENDOR: 'novell' }, /SEED_LDAP_VENDOR must be openldap or ad/);
    fails({ ...base, SEED_LDAP_START_TLS: 'yes' }, /SEED_LDAP_START_TLS must be true or false/);
    fails(
      { ...base, SEED_LDAP_URL: 'ldaps://dc1.corp.example:636', SEED_LDAP_START_TLS: 'true' },
      /SEED_LDAP_START_TLS upgrades a plain ldap:\/\//,
    );
    fails({ ...base, SEED_LDAP_URL: '' }, /SEED_LDAP_BIND_DN is set but SEED_LDAP_URL is not/);
  });

  it('an empty password file is refused, and the password is never in a message', async () => {
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n');
    fails({ ...base, SEED_LDAP_BIND_PASSWORD_FILE: empty }, /SEED_LDAP_BIND_PASSWORD_FILE: .* is empty/);
    try {
      ldapSettings(loadSeedConfig({ ...base, SEED_LDAP_BIND_DN: 'nope' }));
    } catch (error) {
      assert.doesNotMatch((error as Error).message, /s3cret/);
    }
  });

  it('Active Directory: sAMAccountName, objectGUID, its object classes and nested groups', () => {
    const s = ldapSettings(
      loadSeedConfig({
        ...base,
        SEED_LDAP_URL: 'ldaps://dc1.corp.example:636',
        SEED_LDAP_BIND_DN: 'svc-keycloak@corp.example',
        SEED_LDAP_VENDOR: 'ad',
      }),
    );
    assert.ok(s?.adminGroup);
    const provider = providerComponent(s, 'realm-id');
    assert.equal(provider.config?.vendor?.[0], 'ad');
    assert.equal(provider.config?.usernameLDAPAttribute?.[0], 'sAMAccountName');
    assert.equal(provider.config?.uuidLDAPAttribute?.[0], 'objectGUID');
    assert.equal(provider.config?.userObjectClasses?.[0], 'person, organizationalPerson, user');
    const mapper = adminGroupMapper(s, s.adminGroup, 'provider-id');
    assert.equal(mapper.config?.['group.object.classes']?.[0], 'group');
    assert.equal(
      mapper.config?.['user.roles.retrieve.strategy']?.[0],
      'LOAD_GROUPS_BY_MEMBER_ATTRIBUTE_RECURSIVELY',
    );
  });

  it('StartTLS turns connection pooling off; the group filter is escaped', () => {
    const s = ldapSettings(loadSeedConfig({ ...base, SEED_LDAP_START_TLS: 'true' }));
    assert.ok(s);
    const provider = providerComponent(s, 'realm-id');
    assert.equal(provider.config?.startTls?.[0], 'true');
    assert.equal(provider.config?.connectionPooling?.[0], 'false');
    assert.equal(provider.config?.editMode?.[0], 'READ_ONLY');
    assert.equal(filterValue('MCP (admins)*'), 'MCP \\28admins\\29\\2a');
  });
});
