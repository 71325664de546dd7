// The seed against the real Keycloak: idempotent (run twice, compare), converges drift, the presets and the
// console client exactly as specified, scope/role behaviour for alice and bob, and clear failures that write
// nothing (bad admin credentials, unreachable Keycloak, missing realm, realm without the MCP scopes).
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONSOLE_CLIENT_ID, hostPreset, PRESET_NAMES } from '../../src/clients/presets.ts';
import { decodeJwt, pkcePair } from '../../src/doctor/http.ts';
import { readStackCard, type StackCard } from '../../src/stackCard.ts';
import { runSeed } from './support/run.ts';
import { userToken } from './support/userToken.ts';
import { adminClient, adminCredentials, cardPath, loadStack } from './support/stack.ts';

// A preset's client id is not always its name: the CIMD presets are their metadata documents' URLs. The options
// only shape redirect URIs, never a client id.
const PRESET_CLIENT_IDS = PRESET_NAMES.map(
  (name) =>
    hostPreset(name, { librechatUrl: 'http://localhost:3080', librechatServerName: 'x', mcpRemotePort: 3334 })
      .clientId,
);
const SEEDED = [CONSOLE_CLIENT_ID, 'mcp-m2m', ...PRESET_CLIENT_IDS];

/** What the seed is responsible for, in a comparable form. */
async function snapshot(admin: KcAdminClient) {
  const users = [];
  for (const username of ['alice', 'bob']) {
    const [u] = await admin.users.find({ username, exact: true });
    assert.ok(u?.id, `user ${username} exists`);
    const roles = (await admin.users.listRealmRoleMappings({ id: u.id })).map((r) => r.name).sort();
    users.push({ username, enabled: u.enabled, email: u.email, actions: u.requiredActions, roles });
  }
  const clients = [];
  for (const clientId of SEEDED) {
    const found = await admin.clients.find({ clientId });
    assert.equal(found.length, 1, `exactly one client ${clientId}`);
    const c = found[0];
    assert.ok(c?.id);
    const names = (list: { name?: string }[]) => list.map((s) => s.name).sort();
    clients.push({
      clientId,
      publicClient: c.publicClient,
      standardFlow: c.standardFlowEnabled,
      implicit: c.implicitFlowEnabled,
      password: c.directAccessGrantsEnabled,
      fullScope: c.fullScopeAllowed,
      redirectUris: [...(c.redirectUris ?? [])].sort(),
      webOrigins: [...(c.webOrigins ?? [])].sort(),
      pkce: c.attributes?.['pkce.code.challenge.method'],
      postLogout: c.attributes?.['post.logout.redirect.uris'],
      defaults: names(await admin.clients.listDefaultClientScopes({ id: c.id })),
      optional: names(await admin.clients.listOptionalClientScopes({ id: c.id })),
    });
  }
  return {
    users,
    clients,
    userCount: await admin.users.count(),
    clientCount: (await admin.clients.find()).length,
  };
}

describe('seed', { concurrency: false }, () => {
  let card: StackCard;
  let admin: KcAdminClient;
  before(async () => {
    card = await loadStack();
    admin = await adminClient(card);
  });

  it('is idempotent: a second run changes nothing and keeps passwords and the client secret', async () => {
    const first = await runSeed([]);
    assert.equal(first.code, 0, first.output);
    const cardAfterFirst = await readStackCard(cardPath());
    const stateAfterFirst = await snapshot(admin);
    const second = await runSeed([]);
    assert.equal(second.code, 0, second.output);
    assert.match(second.output, /already present, converged/);
    assert.doesNotMatch(second.output, /created/);
    assert.deepEqual(await snapshot(admin), stateAfterFirst);
    const cardAfterSecond = await readStackCard(cardPath());
    assert.deepEqual(cardAfterSecond?.users, cardAfterFirst?.users);
    assert.deepEqual(cardAfterSecond?.clients, cardAfterFirst?.clients);
  });

  it('creates the console client with exact redirect URIs, the MCP origin, PKCE S256 and the MCP scopes', async () => {
    const origin = new URL(card.mcpUrl).origin;
    const state = await snapshot(admin);
    const consoleClient = state.clients.find((c) => c.clientId === CONSOLE_CLIENT_ID);
    assert.deepEqual(consoleClient, {
      clientId: CONSOLE_CLIENT_ID,
      publicClient: true,
      standardFlow: true,
      implicit: false,
      password: false,
      fullScope: false,
      redirectUris: [`${origin}/console/`, `${origin}/console/index.html`],
      webOrigins: [origin],
      pkce: 'S256',
      postLogout: `${origin}/console/`,
      defaults: consoleClient?.defaults,
      optional: consoleClient?.optional,
    });
    // Optional, not default: a default scope's audience would be in every token of the client (docs/gateway.md).
    assert.ok(!consoleClient.defaults.includes('mcp:tools'), consoleClient.defaults.join(' '));
    assert.ok(consoleClient.optional.includes('mcp:tools'));
    assert.ok(consoleClient.optional.includes('mcp:admin'));
    assert.ok(consoleClient.optional.includes('offline_access'));
    assert.equal((await readStackCard(cardPath()))?.clients.console?.clientId, CONSOLE_CLIENT_ID);
  });

  it('presets carry the hosts’ real redirect URIs and are all public PKCE S256 clients', async () => {
    const state = await snapshot(admin);
    const uris = (id: string) => state.clients.find((c) => c.clientId === id)?.redirectUris ?? [];
    assert.ok(uris('mcp-inspector').includes('http://localhost:6274/oauth/callback'));
    assert.ok(uris('mcp-inspector').includes('http://localhost:6274/oauth/callback/debug'));
    assert.ok(uris('mcp-inspector').includes('http://127.0.0.1:6276/oauth/callback')); // Inspector v2 CLI
    assert.ok(uris('librechat').includes('http://localhost:3080/api/mcp/mcp-keycloak-stack/oauth/callback'));
    assert.ok(uris('mcp-remote').includes('http://localhost:3334/oauth/callback'));
    assert.ok(uris('vscode').includes('http://127.0.0.1:33418/'));
    assert.ok(uris('cursor').includes('cursor://anysphere.cursor-mcp/oauth/callback'));
    for (const c of state.clients.filter((x) => x.clientId !== 'mcp-m2m')) {
      assert.equal(c.publicClient, true, c.clientId);
      assert.equal(c.pkce, 'S256', c.clientId);
      assert.equal(c.implicit, false, c.clientId);
      assert.equal(c.password, false, c.clientId);
      assert.ok(!c.defaults.includes('mcp:tools'), c.clientId);
      assert.ok(c.optional.includes('mcp:tools'), c.clientId);
    }
    const m2m = state.clients.find((c) => c.clientId === 'mcp-m2m');
    assert.ok(m2m && !m2m.defaults.includes('mcp:tools') && m2m.optional.includes('mcp:tools'), 'mcp-m2m');
    const configs = await runSeed(['configs']);
    assert.equal(configs.code, 0, configs.output);
    assert.match(
      configs.output,
      new RegExp(`claude mcp add --transport http mcp-keycloak-stack ${card.mcpUrl}`),
    );
    assert.match(configs.output, /client_id: librechat/);
    assert.match(configs.output, /"client_id\\":\\"mcp-remote\\"/);
  });

  it('converges drift: hand edits to clients and role grants are put back', async () => {
    const wanted = await snapshot(admin);
    const [consoleClient] = await admin.clients.find({ clientId: CONSOLE_CLIENT_ID });
    assert.ok(consoleClient?.id);
    await admin.clients.update(
      { id: consoleClient.id },
      { ...consoleClient, redirectUris: ['*'], directAccessGrantsEnabled: true, webOrigins: ['*'] },
    );
    // mcp:tools as a default scope, as seeds before it became optional left it: moved back to optional.
    const tools = (await admin.clientScopes.find()).find((s) => s.name === 'mcp:tools');
    assert.ok(tools?.id);
    for (const clientId of [CONSOLE_CLIENT_ID, 'mcp-m2m', 'claude-code']) {
      const [client] = await admin.clients.find({ clientId });
      assert.ok(client?.id, clientId);
      await admin.clients.delOptionalClientScope({ id: client.id, clientScopeId: tools.id });
      await admin.clients.addDefaultClientScope({ id: client.id, clientScopeId: tools.id });
    }
    const role = await admin.roles.findOneByName({ name: 'mcp-admin' });
    assert.ok(role?.id && role.name);
    const [alice] = await admin.users.find({ username: 'alice', exact: true });
    const [bob] = await admin.users.find({ username: 'bob', exact: true });
    assert.ok(alice?.id && bob?.id);
    await admin.users.delRealmRoleMappings({ id: alice.id, roles: [{ id: role.id, name: role.name }] });
    await admin.users.addRealmRoleMappings({ id: bob.id, roles: [{ id: role.id, name: role.name }] });
    await admin.users.update({ id: bob.id }, { enabled: false });
    assert.notDeepEqual(await snapshot(admin), wanted);

    const run = await runSeed([]);
    assert.equal(run.code, 0, run.output);
    assert.deepEqual(await snapshot(admin), wanted);
  });

  describe('scopes and roles (alice has mcp-admin, bob has not), through a preset client', () => {
    const login = async (username: string, scope: string) =>
      decodeJwt(await userToken(card, username, scope)).payload;

    it('alice asking for mcp:admin gets it, with the MCP audience', async () => {
      const claims = await login('alice', 'openid mcp:tools mcp:admin');
      const scopes = String(claims.scope).split(' ');
      assert.ok(scopes.includes('mcp:tools') && scopes.includes('mcp:admin'), String(claims.scope));
      assert.ok(([] as unknown[]).concat(claims.aud).includes(card.mcpUrl));
      assert.equal(claims.preferred_username, 'alice');
    });

    it('bob asking for mcp:admin does not get it; mcp:tools still works', async () => {
      const claims = await login('bob', 'openid mcp:tools mcp:admin');
      const scopes = String(claims.scope).split(' ');
      assert.ok(scopes.includes('mcp:tools'), String(claims.scope));
      assert.ok(!scopes.includes('mcp:admin'), String(claims.scope));
      assert.ok(([] as unknown[]).concat(claims.aud).includes(card.mcpUrl));
    });

    it('asking for openid only: no MCP audience, no mcp:tools (the scope is optional, never added unasked)', async () => {
      const claims = await login('bob', 'openid');
      assert.ok(!String(claims.scope).split(' ').includes('mcp:tools'), String(claims.scope));
      assert.ok(!([] as unknown[]).concat(claims.aud).includes(card.mcpUrl), JSON.stringify(claims.aud));
    });

    it('a redirect URI off the registered list is refused', async () => {
      const url = new URL(`${card.issuer}/protocol/openid-connect/auth`);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: 'claude-code',
        redirect_uri: 'http://attacker.example:45123/callback',
        scope: 'openid',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }).toString();
      const response = await fetch(url, { redirect: 'manual' });
      assert.equal(response.status, 400);
    });
  });

  describe('failures are clear and write nothing', () => {
    let dir: string;
    let tempCard: string;
    let original: string;
    let env: Record<string, string>;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'seed-e2e-'));
      tempCard = join(dir, 'stack.json');
      await copyFile(cardPath(), tempCard);
      original = await readFile(tempCard, 'utf8');
      const creds = await adminCredentials();
      env = {
        STACK_CARD_PATH: tempCard,
        KEYCLOAK_URL: card.keycloakUrl,
        KEYCLOAK_ADMIN_USERNAME: creds.username,
        KEYCLOAK_ADMIN_PASSWORD: creds.password,
      };
    });
    after(async () => assert.equal(await readFile(tempCard, 'utf8'), original, 'the card is untouched'));

    it('bad admin credentials', async () => {
      const run = await runSeed([], { ...env, KEYCLOAK_ADMIN_PASSWORD: 'wrong-password-123' });
      assert.equal(run.code, 1);
      assert.match(
        run.output,
        /admin_credentials_rejected.*check KEYCLOAK_ADMIN_USERNAME and KEYCLOAK_ADMIN_PASSWORD/,
      );
    });

    it('unreachable Keycloak: waits, then says so', async () => {
      const run = await runSeed([], { ...env, KEYCLOAK_URL: 'http://127.0.0.1:1', SEED_WAIT_SECONDS: '1' });
      assert.equal(run.code, 1);
      assert.match(run.output, /keycloak_unreachable.*did not answer within 1s/);
    });

    it('a realm that does not exist', async () => {
      const run = await runSeed([], { ...env, KEYCLOAK_REALM: 'no-such-realm' });
      assert.equal(run.code, 1);
      assert.match(run.output, /realm_missing/);
    });

    it('a realm without the MCP client scopes: no user or client is created in it', async () => {
      const name = `seed-bare-${crypto.randomUUID().slice(0, 8)}`;
      await admin.realms.create({ realm: name, enabled: true });
      try {
        const run = await runSeed([], { ...env, KEYCLOAK_REALM: name });
        assert.equal(run.code, 1);
        assert.match(run.output, /realm_incomplete.*lacks the client scope\(s\) mcp:tools, mcp:admin/);
        const bare = await adminClient(card, name);
        assert.equal(await bare.users.count(), 0);
        assert.equal((await bare.clients.find({ clientId: CONSOLE_CLIENT_ID })).length, 0);
      } finally {
        await admin.realms.del({ realm: name });
      }
    });
  });
});
