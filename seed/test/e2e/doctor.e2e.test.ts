// `npm run doctor` against the real stack: every check passes on the healthy realm, and every check is seen
// failing once — against realms imported from realm-export/ with one setting broken, or with the doctor given
// what a misconfigured MCP server would have (another issuer, a JWKS URL of another realm, a skewed clock).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runDoctor, type CheckId, type CheckResult, type DoctorOptions } from '../../src/doctor/doctor.ts';
import type { StackCard } from '../../src/stackCard.ts';
import { anonymousPolicy, importRealm, loadStack, REPO_ROOT, type ExtraRealm } from './support/stack.ts';

const byId = (results: CheckResult[], id: CheckId) => {
  const found = results.find((r) => r.id === id);
  assert.ok(found, `no result for ${id}`);
  return found;
};
const assertFails = (results: CheckResult[], id: CheckId, detail: RegExp) => {
  const result = byId(results, id);
  assert.equal(result.status, 'fail', `${id} should fail: ${JSON.stringify(result)}`);
  assert.match(result.detail, detail);
  assert.ok(result.fix && result.fix.length > 10, `${id} names a fix`);
};

describe('npm run doctor', { concurrency: false }, () => {
  let card: StackCard;
  let healthy: DoctorOptions;
  before(async () => {
    card = await loadStack();
    const bob = card.users.find((u) => u.username === 'bob');
    assert.ok(bob);
    healthy = {
      mcpUrl: card.mcpUrl,
      issuer: card.issuer,
      jwksUrl: card.jwksUrl ?? `${card.issuer}/protocol/openid-connect/certs`,
      browserOrigin: 'http://localhost:6274',
      user: { username: bob.username, password: bob.password },
      maxClockSkewSeconds: 30,
    };
  });

  it('passes every check on the healthy stack (the command: exit 0, every line PASS)', async () => {
    const output = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'seed/src/doctor/main.ts')], {
        cwd: REPO_ROOT,
        env: { ...process.env, STACK_CARD_PATH: process.env.STACK_CARD_PATH },
      });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr.on('data', (d: Buffer) => (text += d.toString()));
      child.once('exit', (code) => resolve({ code, text }));
    });
    assert.equal(output.code, 0, output.text);
    // 12 with client-capacity: the command finds the admin in secrets.json beside the card.
    assert.equal(output.text.match(/^PASS /gm)?.length, 12, output.text);
    assert.doesNotMatch(output.text, /^(FAIL|SKIP|WARN) /m);
    assert.match(output.text, /^PASS {2}Room for new registrations .*: \d+ of 1000 clients/m);
  });

  it('deletes its probe client', async () => {
    const { adminClient } = await import('./support/stack.ts');
    const admin = await adminClient(card);
    const before = (await admin.clients.find({ max: 1000 })).length;
    const results = await runDoctor(healthy);
    assert.ok(
      // Without admin credentials the capacity check is skipped; every other one passes.
      results.every((r) => r.status === 'pass' || (r.id === 'client-capacity' && r.status === 'skip')),
      JSON.stringify(results, null, 1),
    );
    assert.equal((await admin.clients.find({ max: 1000 })).length, before);
  });

  describe('against deliberately broken realms', { concurrency: false }, () => {
    let broken: ExtraRealm;
    let noDcr: ExtraRealm;
    before(async () => {
      // One realm with every setting the later checks need broken (each check fails on its own setting),
      // one whose anonymous registration refuses loopback redirect URIs.
      broken = await importRealm(card, 'doctor-broken', (realm) => {
        realm.clientPolicies = { policies: [] }; // no PKCE enforcement
        realm.clientProfiles = { profiles: [] };
        anonymousPolicy(realm, 'registration-web-origins').config = { 'web-origins': [] };
        const tools = realm.clientScopes?.find((s) => s.name === 'mcp:tools');
        assert.ok(tools);
        tools.protocolMappers = tools.protocolMappers?.filter(
          (m: { protocolMapper?: string }) => m.protocolMapper !== 'oidc-audience-mapper',
        );
        realm.scopeMappings = realm.scopeMappings?.filter((m) => m.clientScope !== 'offline_access');
      });
      noDcr = await importRealm(card, 'doctor-no-dcr', (realm) => {
        // A site that trusts one web host only (Keycloak's own trusted-hosts policy beside ours): loopback
        // redirect URIs, which every desktop MCP host registers, are refused.
        const policies = (realm.components as Record<string, unknown[]>)[
          'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy'
        ];
        assert.ok(policies);
        policies.push({
          name: 'Trusted Hosts',
          providerId: 'trusted-hosts',
          subType: 'anonymous',
          subComponents: {},
          config: {
            'host-sending-registration-request-must-match': ['false'],
            'client-uris-must-match': ['true'],
            'trusted-hosts': ['mcp.example.org'],
          },
        });
      });
    });
    after(async () => {
      await broken?.remove();
      await noDcr?.remove();
    });

    const optionsFor = (realm: ExtraRealm): DoctorOptions => ({
      ...healthy,
      issuer: realm.issuer,
      jwksUrl: `${realm.issuer}/protocol/openid-connect/certs`,
      user: realm.user,
    });

    it('a realm without PKCE policy, CORS origin, audience mapper and offline mapping: those checks fail', async () => {
      const results = await runDoctor(optionsFor(broken));
      // The MCP server of this stack expects the issuer of realm mcp, not this one.
      assertFails(results, 'prm', /names authorization_servers .* not http.*doctor-broken/);
      assert.equal(byId(results, 'as-metadata').status, 'pass');
      assert.equal(byId(results, 'registration').status, 'pass');
      assertFails(results, 'pkce', /without code_challenge was accepted/);
      assertFails(results, 'cors', /registration from that origin answered HTTP 403/);
      assertFails(results, 'token-audience', /aud is .*not http/);
      assertFails(results, 'offline-access', /refused|type Refresh/);
      assert.equal(byId(results, 'issuer').status, 'pass');
      assert.equal(byId(results, 'jwks').status, 'pass');
      assertFails(results, 'server-accepts', /HTTP 401/);
      const clients = await broken.admin.clients.find({ max: 1000 });
      assert.ok(!clients.some((c) => c.name?.includes('doctor probe')), 'the probe client is deleted');
    });

    it('a realm whose anonymous DCR refuses loopback redirect URIs: registration fails', async () => {
      const results = await runDoctor(optionsFor(noDcr));
      assertFails(results, 'registration', /HTTP 403/);
      assert.equal(byId(results, 'pkce').status, 'skip');
    });

    it('a realm that does not exist: the metadata check fails', async () => {
      const results = await runDoctor({ ...healthy, issuer: `${card.keycloakUrl}/realms/doctor-missing` });
      assertFails(results, 'as-metadata', /HTTP 404/);
      assert.equal(byId(results, 'registration').status, 'skip');
    });

    it('issuer drift (the server expects another URL for the same realm): the issuer check fails', async () => {
      const other = card.issuer.replace('//localhost:', '//127.0.0.1:');
      assert.notEqual(other, card.issuer);
      const results = await runDoctor({ ...healthy, issuer: other });
      assertFails(results, 'as-metadata', /names issuer/);
      assertFails(results, 'issuer', /tokens carry iss .* the MCP server expects/);
    });

    it("a JWKS URL serving another realm's keys: the jwks check fails", async () => {
      const results = await runDoctor({
        ...healthy,
        jwksUrl: `${broken.issuer}/protocol/openid-connect/certs`,
      });
      assertFails(results, 'jwks', /does not hold the token's key/);
      const unreachable = await runDoctor({ ...healthy, jwksUrl: 'http://127.0.0.1:1/certs' });
      assertFails(unreachable, 'jwks', /failed/);
    });

    it('a clock an hour off: the clock check fails', async () => {
      const results = await runDoctor({ ...healthy, now: () => Date.now() + 3_600_000 });
      assertFails(results, 'clock', /clocks differ by up to 36\d\ds/);
    });
  });
});
