// The seed's side of client ID metadata documents (docs/cimd.md), without Keycloak: SEED_CIMD_* parsing, the
// domain lists of the realm policy, the policy and profile it writes, and the pinned documents among the presets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CIMD_PROFILE,
  cimdPolicy,
  cimdProfile,
  KEYCLOAK_CIMD_CONDITION,
  KEYCLOAK_CIMD_EXECUTOR,
  MCP_CIMD_EXECUTOR,
} from '../src/cimd/ensureCimdPolicy.ts';
import { cimdSettings } from '../src/cimd/settings.ts';
import { publicClientRepresentation } from '../src/clients/ensurePublicClient.ts';
import { CLAUDE_CODE_DOCUMENT_URL, hostPreset, VSCODE_DOCUMENT_URL } from '../src/clients/presets.ts';
import { loadSeedConfig } from '../src/config.ts';
import { presetOptions } from '../src/seed.ts';

const base = { KEYCLOAK_ADMIN_PASSWORD: 'x' };
const RELAYS = ['https://vscode.dev/redirect', 'https://insiders.vscode.dev/redirect'];

describe('client ID metadata documents: seed settings, policy and pinned documents', () => {
  it('SEED_CIMD_TRUSTED_DOMAINS / SEED_CIMD_LINK_DOMAINS: defaults, lists, none, named errors', () => {
    const config = loadSeedConfig(base);
    assert.deepEqual(config.SEED_CIMD_TRUSTED_DOMAINS, ['vscode.dev', 'claude.ai']);
    assert.deepEqual(config.SEED_CIMD_LINK_DOMAINS, ['code.visualstudio.com']);
    assert.deepEqual(
      loadSeedConfig({ ...base, SEED_CIMD_TRUSTED_DOMAINS: ' Example.org, *.corp.example ,example.org' })
        .SEED_CIMD_TRUSTED_DOMAINS,
      ['example.org', '*.corp.example'],
    );
    assert.deepEqual(
      loadSeedConfig({ ...base, SEED_CIMD_TRUSTED_DOMAINS: 'none' }).SEED_CIMD_TRUSTED_DOMAINS,
      [],
    );
    assert.throws(
      () => loadSeedConfig({ ...base, SEED_CIMD_TRUSTED_DOMAINS: 'https://vscode.dev' }),
      /SEED_CIMD_TRUSTED_DOMAINS must be a comma list of host names .*not a host name: https:\/\/vscode\.dev/,
    );
    assert.throws(
      () => loadSeedConfig({ ...base, SEED_CIMD_LINK_DOMAINS: 'a..b' }),
      /SEED_CIMD_LINK_DOMAINS/,
    );
  });

  it('the executor trusts document hosts, loopback, relay hosts and link hosts; the condition only document hosts', () => {
    const settings = cimdSettings(loadSeedConfig(base), RELAYS);
    assert.deepEqual(settings.documentHosts, ['vscode.dev', 'claude.ai']);
    assert.deepEqual(settings.uriHosts, [
      'vscode.dev',
      'claude.ai',
      '127.0.0.1',
      'localhost',
      '[::1]',
      'insiders.vscode.dev',
      'code.visualstudio.com',
    ]);
    const policy = cimdPolicy(settings);
    assert.equal(policy.enabled, true);
    assert.deepEqual(
      policy.conditions?.map((c) => c.condition),
      [KEYCLOAK_CIMD_CONDITION, 'any-client'],
    );
    assert.deepEqual(policy.conditions?.[0]?.configuration, {
      'client-id-uri-scheme': ['https'],
      'client-id-uri-allow-permitted-domains': ['vscode.dev', 'claude.ai'],
    });
    assert.deepEqual(policy.profiles, [CIMD_PROFILE]);
    const profile = cimdProfile(settings);
    assert.deepEqual(
      profile.executors?.map((e) => e.executor),
      [KEYCLOAK_CIMD_EXECUTOR, MCP_CIMD_EXECUTOR],
    );
    assert.deepEqual(profile.executors?.[0]?.configuration, {
      'cimd-allow-http-scheme': false,
      'cimd-allow-permitted-domains': settings.uriHosts,
      'cimd-restrict-same-domain': false,
      'only-allow-confidential-client': false,
    });
  });

  it('SEED_CIMD_TRUSTED_DOMAINS=none: the policy is written switched off', () => {
    const settings = cimdSettings(loadSeedConfig({ ...base, SEED_CIMD_TRUSTED_DOMAINS: 'none' }), RELAYS);
    assert.equal(cimdPolicy(settings).enabled, false);
  });

  it('the pinned documents: the URL as client id, the published redirect URIs, never fetched, consent on', () => {
    const options = presetOptions(loadSeedConfig(base));
    const vscode = hostPreset('vscode-cimd', options);
    const claude = hostPreset('claude-code-cimd', options);
    assert.equal(vscode.clientId, VSCODE_DOCUMENT_URL);
    assert.deepEqual(vscode.redirectUris, ['http://127.0.0.1:33418/', 'https://vscode.dev/redirect']);
    assert.equal(claude.clientId, CLAUDE_CODE_DOCUMENT_URL);
    assert.deepEqual(claude.redirectUris, ['http://localhost/callback', 'http://127.0.0.1/callback']);
    for (const spec of [vscode, claude]) {
      const rep = publicClientRepresentation(spec);
      assert.equal(rep.consentRequired, true);
      assert.equal(rep.publicClient, true);
      // Keycloak's CIMD provider refetches once this time has passed; 2^31 - 1 is the largest it can read.
      assert.equal(rep.attributes?.['cimd.cache.expiry.time.in.sec'], '2147483647');
      assert.equal(rep.attributes?.['display.on.consent.screen'], 'true');
      assert.match(
        rep.attributes?.['consent.screen.text'] ?? '',
        /^The client's hostname is (vscode\.dev|claude\.ai)$/,
      );
    }
  });
});
