// The corporate directory against a real OpenLDAP (support/slapd.ts, the test's own slapd on a free port): the
// seed federates it (idempotently), LDAP users log in through Keycloak's real form with a preset client, the admin
// group's member steps up to mcp:admin and a non-member cannot, a user deleted from LDAP can no longer log in, and
// a wrong URL or bind password fails the seed and the doctor naming the setting. The provider and its group are
// removed at the end: the stack is shared by the whole run.
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CHECKS, runCheck, type DoctorSettings } from '../../src/doctor/check.ts';
import { ldap as ldapCheck } from '../../src/doctor/checks/ldap.ts';
import { decodeJwt } from '../../src/doctor/http.ts';
import {
  ADMIN_GROUP_MAPPER_NAME,
  MAPPER_TYPE,
  PROVIDER_NAME,
  USER_STORAGE_TYPE,
} from '../../src/ldap/components.ts';
import { ldapFromEnv } from '../../src/ldap/settings.ts';
import type { StackCard } from '../../src/stackCard.ts';
import { runSeed } from './support/run.ts';
import { loginToken } from './support/userToken.ts';
import { ADMIN_GROUP, GROUPS_DN, PEOPLE_DN, startDirectory, type TestDirectory } from './support/slapd.ts';
import { adminClient, adminCredentials, loadStack, REPO_ROOT } from './support/stack.ts';

describe('corporate directory (LDAP federation, a real OpenLDAP)', { concurrency: false }, () => {
  let card: StackCard;
  let admin: KcAdminClient;
  let directory: TestDirectory;
  let env: Record<string, string>;

  before(async () => {
    card = await loadStack();
    admin = await adminClient(card);
    directory = await startDirectory();
    const passwordFile = join(directory.dir, 'bind-password');
    await writeFile(passwordFile, `${directory.bind.password}\n`, { mode: 0o600 });
    env = {
      SEED_LDAP_URL: directory.url,
      SEED_LDAP_BIND_DN: directory.bind.dn,
      SEED_LDAP_BIND_PASSWORD_FILE: passwordFile,
      SEED_LDAP_USERS_DN: PEOPLE_DN,
      SEED_LDAP_GROUPS_DN: GROUPS_DN,
      SEED_LDAP_ADMIN_GROUP: ADMIN_GROUP,
    };
  });

  after(async () => {
    // Removing the provider removes the users it imported; the group it brought in stays unless deleted.
    if (admin) {
      for (const provider of await admin.components.find({ type: USER_STORAGE_TYPE, name: PROVIDER_NAME })) {
        if (provider.id) await admin.components.del({ id: provider.id });
      }
      for (const group of await admin.groups.find({ search: ADMIN_GROUP, exact: true })) {
        if (group.id && group.name === ADMIN_GROUP) await admin.groups.del({ id: group.id });
      }
    }
    await directory?.stop();
  });

  const provider = async () => {
    const found = await admin.components.find({ type: USER_STORAGE_TYPE, name: PROVIDER_NAME });
    assert.equal(found.length, 1, 'exactly one LDAP provider');
    return found[0] as NonNullable<(typeof found)[0]>;
  };

  /** Authorization code + PKCE through the claude-code preset, Keycloak's real login form and consent. */
  const login = async (user: { username: string; password: string }, scope: string) => {
    const token = await loginToken(card.issuer, user, scope);
    const claims = decodeJwt(token).payload;
    return { claims, scopes: String(claims.scope).split(' ') };
  };

  it('the seed federates the directory and maps its admin group to mcp-admin; a second run converges', async () => {
    const first = await runSeed([], env);
    assert.equal(first.code, 0, first.output);
    assert.match(
      first.output,
      /directory: LDAP ldap:\/\/127\.0\.0\.1:\d+ \(openldap, READ_ONLY.*mcp-admins → mcp-admin/,
    );
    assert.doesNotMatch(first.output, new RegExp(directory.bind.password));
    const created = await provider();
    assert.equal(created.providerId, 'ldap');
    assert.equal(created.config?.connectionUrl?.[0], directory.url);
    assert.equal(created.config?.editMode?.[0], 'READ_ONLY');
    assert.equal(created.config?.usernameLDAPAttribute?.[0], 'uid');
    assert.equal(created.config?.uuidLDAPAttribute?.[0], 'entryUUID');
    assert.equal(created.config?.importEnabled?.[0], 'true');

    const second = await runSeed([], env);
    assert.equal(second.code, 0, second.output);
    assert.match(second.output, /directory: .* — converged/);
    const again = await provider();
    assert.equal(again.id, created.id, 'the same provider, updated in place');
    const mappers = await admin.components.find({ parent: again.id, type: MAPPER_TYPE });
    assert.equal(mappers.filter((m) => m.name === ADMIN_GROUP_MAPPER_NAME).length, 1);
    const [group] = (await admin.groups.find({ search: ADMIN_GROUP, exact: true })).filter(
      (g) => g.name === ADMIN_GROUP,
    );
    assert.ok(group?.id, 'the admin group is in the realm');
    const roles = await admin.groups.listRealmRoleMappings({ id: group.id });
    assert.deepEqual(
      roles.map((r) => r.name),
      ['mcp-admin'],
    );
  });

  it('carol (LDAP) logs in through the real form and gets mcp:tools with the MCP audience', async () => {
    const { claims, scopes } = await login(directory.carol, 'openid mcp:tools');
    assert.ok(scopes.includes('mcp:tools'), String(claims.scope));
    assert.ok(!scopes.includes('mcp:admin'), String(claims.scope));
    assert.ok(([] as unknown[]).concat(claims.aud).includes(card.mcpUrl));
    assert.equal(claims.preferred_username, 'carol');
    const [imported] = await admin.users.find({ username: 'carol', exact: true });
    assert.ok(imported?.federationLink, 'carol was imported from the directory at her first login');
  });

  it('carol, a member of the admin group, steps up to mcp:admin', async () => {
    const { claims, scopes } = await login(directory.carol, 'openid mcp:tools mcp:admin');
    assert.ok(scopes.includes('mcp:tools') && scopes.includes('mcp:admin'), String(claims.scope));
  });

  it('dave, not a member, asking for mcp:admin does not get it; mcp:tools still works', async () => {
    const { claims, scopes } = await login(directory.dave, 'openid mcp:tools mcp:admin');
    assert.ok(scopes.includes('mcp:tools'), String(claims.scope));
    assert.ok(!scopes.includes('mcp:admin'), String(claims.scope));
    assert.equal(claims.preferred_username, 'dave');
  });

  it('dave deleted from LDAP can no longer log in', async () => {
    await directory.remove(directory.dave.dn);
    await assert.rejects(login(directory.dave, 'openid mcp:tools'), /Keycloak refused the login/);
  });

  it('a wrong bind password or LDAP URL fails the seed naming the setting, and changes nothing', async () => {
    const wrongFile = join(directory.dir, 'wrong-password');
    await writeFile(wrongFile, 'not-the-password\n', { mode: 0o600 });
    const wrongPassword = await runSeed([], { ...env, SEED_LDAP_BIND_PASSWORD_FILE: wrongFile });
    assert.equal(wrongPassword.code, 1, wrongPassword.output);
    assert.match(
      wrongPassword.output,
      /error \(ldap_unreachable\): .*refused the bind.*SEED_LDAP_BIND_PASSWORD_FILE/,
    );
    assert.doesNotMatch(wrongPassword.output, /not-the-password/);

    // A port nothing listens on (the directory's, once it is known closed, would do as well).
    const wrongUrl = await runSeed([], { ...env, SEED_LDAP_URL: 'ldap://127.0.0.1:1' });
    assert.equal(wrongUrl.code, 1, wrongUrl.output);
    assert.match(wrongUrl.output, /error \(ldap_unreachable\): Keycloak could not connect .*SEED_LDAP_URL/);

    const notAUrl = await runSeed([], { ...env, SEED_LDAP_URL: 'https://ldap.example.test' });
    assert.equal(notAUrl.code, 1, notAUrl.output);
    assert.match(
      notAUrl.output,
      /error \(config_invalid\): SEED_LDAP_URL must be an ldap:\/\/ or ldaps:\/\//,
    );

    const missingFile = await runSeed([], {
      ...env,
      SEED_LDAP_BIND_PASSWORD_FILE: join(directory.dir, 'nope'),
    });
    assert.equal(missingFile.code, 1, missingFile.output);
    assert.match(missingFile.output, /SEED_LDAP_BIND_PASSWORD_FILE: cannot read .* \(no such file\)/);

    assert.equal((await provider()).config?.connectionUrl?.[0], directory.url, 'the provider is unchanged');
  });

  it('npm run doctor checks the connection and the bind, and names the failing setting', async () => {
    const output = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'seed/src/doctor/main.ts')], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env },
      });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr.on('data', (d: Buffer) => (text += d.toString()));
      child.once('exit', (code) => resolve({ code, text }));
    });
    assert.match(
      output.text,
      new RegExp(`^PASS {2}${escape(CHECKS.ldap)}: Keycloak connects to ${escape(directory.url)}`, 'm'),
    );

    const settings = (overrides: Record<string, string>): DoctorSettings =>
      ({ admin: access, ldap: ldapFromEnv({ ...env, ...overrides }) }) as unknown as DoctorSettings;
    const access = { keycloakUrl: card.keycloakUrl, realm: card.realm, ...(await adminCredentials()) };
    const wrongFile = join(directory.dir, 'wrong-password');
    const badBind = await runCheck(ldapCheck, settings({ SEED_LDAP_BIND_PASSWORD_FILE: wrongFile }), {});
    assert.equal(badBind.status, 'fail', JSON.stringify(badBind));
    assert.match(badBind.detail, /^SEED_LDAP_BIND_DN: .*refused the bind/);
    assert.match(badBind.fix ?? '', /SEED_LDAP_BIND_DN or SEED_LDAP_BIND_PASSWORD_FILE/);
    const badUrl = await runCheck(ldapCheck, settings({ SEED_LDAP_URL: 'ldap://127.0.0.1:1' }), {});
    assert.equal(badUrl.status, 'fail', JSON.stringify(badUrl));
    assert.match(badUrl.detail, /^SEED_LDAP_URL: Keycloak could not connect/);
  });
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
