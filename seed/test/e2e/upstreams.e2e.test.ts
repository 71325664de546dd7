// The realm side of the gateway's upstreams (`npm run seed -- upstreams`) against the real Keycloak: idempotent,
// converges an edited audience, per-upstream audiences for the M2M client and for a self-registered (DCR) client,
// and real RFC 8693 token exchanges for a token-exchange upstream (Keycloak 26's standard token exchange).
// Runs with --file, so the card's `upstreams` (this stack's own server) are never rewritten by the test.
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { upstreamResourceUrl } from '@mcp-keycloak-stack/mcp-server/upstreamsFile';
import { GATEWAY_CLIENT_ID } from '../../src/contracts.ts';
import { CONSOLE_CLIENT_ID } from '../../src/clients/presets.ts';
import { decodeJwt } from '../../src/doctor/http.ts';
import { readStackCard, type StackCard } from '../../src/stackCard.ts';
import { runSeed } from './support/run.ts';
import { adminClient, cardPath, loadStack, REPO_ROOT } from './support/stack.ts';
import { userToken } from './support/userToken.ts';

const DEFAULT_FILE = join(REPO_ROOT, 'compose', 'gateway', 'upstreams.yaml');
const POLICY_TYPE = 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

const upstreamsCommand = (args: string[]) => runSeed(['upstreams', ...args], { STACK_CARD_PATH: cardPath() });
const audiences = (claims: Record<string, unknown>) => ([] as unknown[]).concat(claims.aud ?? []);

async function tokenRequest(card: StackCard, form: Record<string, string>) {
  const response = await fetch(`${card.issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string | undefined> };
}

async function registrationLists(admin: KcAdminClient) {
  const policies = await admin.components.find({ type: POLICY_TYPE });
  return policies
    .filter((p) => p.providerId === 'allowed-client-templates')
    .map((p) => ({ subType: p.subType, scopes: [...(p.config?.['allowed-client-scopes'] ?? [])].sort() }))
    .sort((a, b) => String(a.subType).localeCompare(String(b.subType)));
}

/** What `upstreams` is responsible for, for the scopes named, in a comparable form. */
async function snapshot(admin: KcAdminClient, scopeNames: string[], clientIds: string[]) {
  const scopes = [];
  for (const name of scopeNames) {
    const scope = await admin.clientScopes.findOneByName({ name });
    assert.ok(scope?.id, `client scope ${name} exists`);
    const mappers = await admin.clientScopes.listProtocolMappers({ id: scope.id });
    scopes.push({
      name,
      description: scope.description,
      attributes: scope.attributes,
      mappers: mappers
        .map((m) => ({ name: m.name, type: m.protocolMapper, config: m.config as unknown }))
        .sort((a, b) => String(a.name).localeCompare(String(b.name))),
    });
  }
  const names = (list: { name?: string }[]) => list.map((s) => s.name).sort();
  const clients = [];
  for (const clientId of clientIds) {
    const [client] = await admin.clients.find({ clientId });
    assert.ok(client?.id, `client ${clientId} exists`);
    clients.push({
      clientId,
      defaults: names(await admin.clients.listDefaultClientScopes({ id: client.id })),
      optional: names(await admin.clients.listOptionalClientScopes({ id: client.id })),
    });
  }
  return {
    scopes,
    clients,
    realmOptional: names(await admin.clientScopes.listDefaultOptionalClientScopes()),
    registration: await registrationLists(admin),
    scopeCount: (await admin.clientScopes.find()).length,
  };
}

describe('seed upstreams', { concurrency: false }, () => {
  let card: StackCard;
  let admin: KcAdminClient;
  let everythingUrl: string;
  before(async () => {
    card = await loadStack();
    admin = await adminClient(card);
    everythingUrl = upstreamResourceUrl(card.mcpUrl, '/mcp/everything');
    const first = await upstreamsCommand(['--file', DEFAULT_FILE]);
    assert.equal(first.code, 0, first.output);
  });

  it('is idempotent: a second run changes nothing', async () => {
    const clients = [CONSOLE_CLIENT_ID, 'claude-code', 'mcp-m2m'];
    const before = await snapshot(admin, ['mcp:everything'], clients);
    const again = await upstreamsCommand(['--file', DEFAULT_FILE]);
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /upstream everything: \S+\/mcp\/everything \(mcp:everything\)/);
    assert.match(again.output, /upstream scopes: already present, converged/);
    assert.doesNotMatch(again.output, /created|\+=|updated|dropped/);
    assert.deepEqual(await snapshot(admin, ['mcp:everything'], clients), before);
  });

  it('mcp:everything is requestable: consent text, audience and username mappers, optional everywhere', async () => {
    const state = await snapshot(admin, ['mcp:everything'], [CONSOLE_CLIENT_ID, 'claude-code', 'mcp-m2m']);
    const [scope] = state.scopes;
    assert.equal(scope?.attributes?.['include.in.token.scope'], 'true');
    assert.equal(scope?.attributes?.['display.on.consent.screen'], 'true');
    assert.equal(
      scope?.attributes?.['consent.screen.text'],
      'Use the MCP reference server (everything) tools',
    );
    const audience = scope?.mappers.find((m) => m.name === 'audience-everything');
    assert.equal(audience?.type, 'oidc-audience-mapper');
    assert.deepEqual(
      {
        url: (audience?.config as Record<string, string>)['included.custom.audience'],
        access: (audience?.config as Record<string, string>)['access.token.claim'],
        id: (audience?.config as Record<string, string>)['id.token.claim'],
      },
      { url: everythingUrl, access: 'true', id: 'false' },
    );
    assert.ok(scope?.mappers.some((m) => m.name === 'username'));
    assert.ok(state.realmOptional.includes('mcp:everything'));
    for (const list of state.registration) assert.ok(list.scopes.includes('mcp:everything'), list.subType);
    for (const client of state.clients)
      assert.ok(client.optional.includes('mcp:everything'), client.clientId);
  });

  it('converges an audience edited by hand back to the upstream URL', async () => {
    const scope = await admin.clientScopes.findOneByName({ name: 'mcp:everything' });
    assert.ok(scope?.id);
    const mapper = (await admin.clientScopes.listProtocolMappers({ id: scope.id })).find(
      (m) => m.name === 'audience-everything',
    );
    assert.ok(mapper?.id);
    await admin.clientScopes.updateProtocolMapper(
      { id: scope.id, mapperId: mapper.id },
      { ...mapper, config: { ...mapper.config, 'included.custom.audience': 'http://elsewhere.test/mcp' } },
    );
    const run = await upstreamsCommand(['--file', DEFAULT_FILE]);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /mcp:everything converged \(mapper audience-everything updated\)/);
    const after = await admin.clientScopes.findProtocolMapperByName({
      id: scope.id,
      name: 'audience-everything',
    });
    assert.equal(after?.config?.['included.custom.audience'], everythingUrl);
  });

  it('the M2M client asking for mcp:everything gets the upstream URL in aud and not /mcp; without it, neither', async () => {
    const m2m = card.clients.m2m;
    assert.ok(m2m);
    const credentials = { client_id: m2m.clientId, client_secret: m2m.clientSecret };
    const asked = await tokenRequest(card, {
      grant_type: 'client_credentials',
      ...credentials,
      scope: 'mcp:everything',
    });
    assert.equal(asked.status, 200, JSON.stringify(asked.body));
    const claims = decodeJwt(asked.body.access_token as string).payload;
    assert.ok(audiences(claims).includes(everythingUrl), JSON.stringify(claims.aud));
    assert.ok(String(claims.scope).split(' ').includes('mcp:everything'), String(claims.scope));
    // mcp:tools is an optional scope of the M2M client (seed/src/clients/ensureM2mClient.ts): not asked for, so
    // the token is not for the built-in /mcp.
    assert.ok(!audiences(claims).includes(card.mcpUrl), JSON.stringify(claims.aud));
    assert.ok(!String(claims.scope).split(' ').includes('mcp:tools'), String(claims.scope));

    const both = await tokenRequest(card, {
      grant_type: 'client_credentials',
      ...credentials,
      scope: 'mcp:tools mcp:everything',
    });
    assert.equal(both.status, 200, JSON.stringify(both.body));
    const bothAud = audiences(decodeJwt(both.body.access_token as string).payload);
    assert.ok(bothAud.includes(everythingUrl) && bothAud.includes(card.mcpUrl), JSON.stringify(bothAud));

    const plain = await tokenRequest(card, { grant_type: 'client_credentials', ...credentials });
    assert.equal(plain.status, 200, JSON.stringify(plain.body));
    const plainAud = audiences(decodeJwt(plain.body.access_token as string).payload);
    assert.ok(!plainAud.includes(everythingUrl), JSON.stringify(plainAud));
    assert.ok(!plainAud.includes(card.mcpUrl), JSON.stringify(plainAud));
  });

  it('a host preset (claude-code) asking for mcp:everything gets the upstream URL in aud, not /mcp', async () => {
    const claims = decodeJwt(await userToken(card, 'bob', 'openid mcp:everything')).payload;
    assert.ok(audiences(claims).includes(everythingUrl), JSON.stringify(claims.aud));
    assert.ok(!audiences(claims).includes(card.mcpUrl), JSON.stringify(claims.aud));
    assert.ok(!String(claims.scope).split(' ').includes('mcp:tools'), String(claims.scope));
  });

  it('a DCR-registered public client may ask for mcp:everything: aud is the upstream URL alone', async () => {
    const redirectUri = `http://127.0.0.1:${49152 + Math.floor(Math.random() * 16000)}/callback`;
    const registration = await fetch(`${card.issuer}/clients-registrations/openid-connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'seed upstreams e2e (deleted after the test)',
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        scope: 'openid mcp:everything',
      }),
    });
    const registered = (await registration.json()) as Record<string, string>;
    assert.equal(registration.status, 201, JSON.stringify(registered));
    try {
      const token = await userToken(card, 'bob', 'openid mcp:everything', {
        clientId: registered.client_id as string,
        redirectUri,
      });
      const claims = decodeJwt(token).payload;
      assert.deepEqual(audiences(claims), [everythingUrl]);
      assert.ok(String(claims.scope).split(' ').includes('mcp:everything'), String(claims.scope));
      assert.ok(!String(claims.scope).split(' ').includes('mcp:tools'), String(claims.scope));
    } finally {
      await fetch(registered.registration_client_uri as string, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${registered.registration_access_token}` },
      });
    }
  });

  it('a broken upstreams file: config_invalid naming MCP_UPSTREAMS_FILE, nothing changed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seed-upstreams-'));
    const file = join(dir, 'upstreams.yaml');
    await writeFile(
      file,
      'upstreams:\n  - name: Not-Lowercase\n    transport: { type: stdio, command: node }\n',
    );
    const before = await admin.clientScopes.find();
    const run = await upstreamsCommand(['--file', file]);
    assert.equal(run.code, 1);
    assert.match(
      run.output,
      /error \(config_invalid\): MCP_UPSTREAMS_FILE: .*upstream "Not-Lowercase": name/,
    );
    assert.equal((await admin.clientScopes.find()).length, before.length);
  });

  describe('a token-exchange upstream, seeded for a second gateway (--file, --base-url)', () => {
    const suffix = crypto.randomUUID().slice(0, 6);
    const name = `txprobe-${suffix}`;
    const target = `txprobe-api-${suffix}`;
    const scope = `mcp:${name}`;
    const ruleScope = `mcp:${name}-admin`;
    const baseUrl = 'http://localhost:39999/mcp';
    const upstreamUrl = `http://localhost:39999/mcp/${name}`;
    let cardUpstreamsBefore: unknown;

    before(async () => {
      cardUpstreamsBefore = (await readStackCard(cardPath()))?.upstreams;
      const dir = await mkdtemp(join(tmpdir(), 'seed-upstreams-'));
      const file = join(dir, 'upstreams.yaml');
      await writeFile(
        file,
        [
          'upstreams:',
          `  - name: ${name}`,
          '    transport:',
          '      type: streamable-http',
          '      url: http://127.0.0.1:9/mcp',
          // Not set in the seed's environment: the seed does not need transport secrets.
          '      headers: { X-Api-Key: "${TXPROBE_UNSET_SECRET}" }',
          `    identity: { type: token-exchange, audience: ${target} }`,
          '    tools:',
          '      rules:',
          `        - { match: "danger_*", scopes: [${ruleScope}] }`,
        ].join('\n'),
      );
      const first = await upstreamsCommand(['--file', file, '--base-url', baseUrl]);
      assert.equal(first.code, 0, first.output);
      assert.match(first.output, new RegExp(`target client\\(s\\) ${target} created`));
      const second = await upstreamsCommand(['--file', file, '--base-url', baseUrl]);
      assert.equal(second.code, 0, second.output);
      assert.doesNotMatch(second.output, /created|\+=|updated|dropped/);
    });

    after(async () => {
      // The allow-lists first: Keycloak refuses to save one that names a client scope that does not exist.
      for (const policy of await admin.components.find({ type: POLICY_TYPE })) {
        const list = policy.config?.['allowed-client-scopes'];
        if (!policy.id || !Array.isArray(list)) continue;
        const kept = list.filter((s) => s !== scope && s !== ruleScope);
        if (kept.length !== list.length) {
          await admin.components.update(
            { id: policy.id },
            { ...policy, config: { ...policy.config, 'allowed-client-scopes': kept } },
          );
        }
      }
      for (const scopeName of [scope, ruleScope]) {
        const found = await admin.clientScopes.findOneByName({ name: scopeName });
        if (found?.id) await admin.clientScopes.del({ id: found.id });
      }
      const [targetClient] = await admin.clients.find({ clientId: target });
      if (targetClient?.id) await admin.clients.del({ id: targetClient.id });
      const [gateway] = await admin.clients.find({ clientId: GATEWAY_CLIENT_ID });
      if (gateway?.id) {
        const mapper = await admin.clients.findProtocolMapperByName({
          id: gateway.id,
          name: `audience-${target}`,
        });
        if (mapper?.id) await admin.clients.delProtocolMapper({ id: gateway.id, mapperId: mapper.id });
      }
    });

    it('creates the gateway client (exchange only) and the target client (no flows); the card gets its secret', async () => {
      const [gateway] = await admin.clients.find({ clientId: GATEWAY_CLIENT_ID });
      assert.ok(gateway);
      assert.equal(gateway.publicClient, false);
      assert.equal(gateway.attributes?.['standard.token.exchange.enabled'], 'true');
      assert.equal(gateway.serviceAccountsEnabled, false);
      assert.equal(gateway.standardFlowEnabled, false);
      assert.equal(gateway.directAccessGrantsEnabled, false);
      assert.equal(gateway.implicitFlowEnabled, false);
      const [targetClient] = await admin.clients.find({ clientId: target });
      assert.ok(targetClient);
      assert.equal(targetClient.publicClient, false);
      assert.equal(targetClient.standardFlowEnabled, false);
      assert.equal(targetClient.serviceAccountsEnabled, false);
      const after = await readStackCard(cardPath());
      assert.equal(after?.gateway?.clientId, GATEWAY_CLIENT_ID);
      assert.ok((after?.gateway?.clientSecret ?? '').length >= 16);
      // --file / --base-url describe another server: the card's own upstreams are left alone.
      assert.deepEqual(after?.upstreams, cardUpstreamsBefore);
    });

    it('a rule-only scope is created without an audience', async () => {
      const found = await admin.clientScopes.findOneByName({ name: ruleScope });
      assert.ok(found?.id);
      const mappers = await admin.clientScopes.listProtocolMappers({ id: found.id });
      assert.deepEqual(mappers.map((m) => m.protocolMapper).sort(), ['oidc-usermodel-property-mapper']);
    });

    it('exchanges alice’s token for the upstream for one whose aud is the target client', async () => {
      const gateway = (await readStackCard(cardPath()))?.gateway;
      assert.ok(gateway);
      const subject = await userToken(card, 'alice', `openid ${scope}`);
      const subjectAud = audiences(decodeJwt(subject).payload);
      assert.ok(subjectAud.includes(upstreamUrl), JSON.stringify(subjectAud));
      assert.ok(subjectAud.includes(GATEWAY_CLIENT_ID), JSON.stringify(subjectAud));

      const exchange = (audience: string, subjectToken = subject) =>
        tokenRequest(card, {
          grant_type: TOKEN_EXCHANGE,
          client_id: gateway.clientId,
          client_secret: gateway.clientSecret,
          subject_token: subjectToken,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          audience,
        });
      const exchanged = await exchange(target);
      assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
      assert.equal(exchanged.body.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
      const claims = decodeJwt(exchanged.body.access_token as string).payload;
      assert.deepEqual(audiences(claims), [target]);
      assert.equal(claims.azp, GATEWAY_CLIENT_ID);
      assert.equal(claims.preferred_username, 'alice');

      // An audience the gateway was not given (another client of the realm): refused.
      const other = await exchange('mcp-m2m');
      assert.equal(other.status, 400, JSON.stringify(other.body));
      assert.match(String(other.body.error_description), /Requested audience not available/);

      // A token for another upstream does not name the gateway in aud: refused.
      const foreign = await userToken(card, 'alice', 'openid mcp:everything');
      const refused = await exchange(target, foreign);
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      assert.match(String(refused.body.error_description), /not within the token audience/);
    });
  });
});
