import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consoleClient, hostPreset, PRESET_NAMES } from '../src/clients/presets.ts';
import { publicClientRepresentation } from '../src/clients/ensurePublicClient.ts';
import { loadSeedConfig } from '../src/config.ts';
import { doctorOptions } from '../src/doctor/config.ts';
import { hostConfigs, INSPECTOR_VERSION } from '../src/hostConfigs.ts';
import { presetOptions } from '../src/seed.ts';
import type { StackCard } from '../src/stackCard.ts';

const base = { KEYCLOAK_ADMIN_PASSWORD: 'x' };

describe('host presets and the console client', () => {
  it('SEED_PRESETS: all by default, none, a list, or a named error', () => {
    assert.deepEqual(loadSeedConfig(base).SEED_PRESETS, [...PRESET_NAMES]);
    assert.deepEqual(loadSeedConfig({ ...base, SEED_PRESETS: 'none' }).SEED_PRESETS, []);
    assert.deepEqual(loadSeedConfig({ ...base, SEED_PRESETS: 'vscode, cursor' }).SEED_PRESETS, [
      'vscode',
      'cursor',
    ]);
    assert.throws(
      () => loadSeedConfig({ ...base, SEED_PRESETS: 'vscode,emacs' }),
      /SEED_PRESETS: unknown host emacs/,
    );
    assert.throws(() => loadSeedConfig({ ...base, SEED_MCP_REMOTE_PORT: '80' }), /SEED_MCP_REMOTE_PORT/);
  });

  it('the console client has exact redirect URIs on the MCP origin and no wildcard', () => {
    const spec = consoleClient('http://localhost:3000/mcp');
    assert.deepEqual(spec.redirectUris, [
      'http://localhost:3000/console/',
      'http://localhost:3000/console/index.html',
    ]);
    assert.deepEqual(spec.webOrigins, ['http://localhost:3000']);
    const rep = publicClientRepresentation(spec);
    assert.equal(rep.attributes?.['pkce.code.challenge.method'], 'S256');
    assert.equal(rep.attributes?.['post.logout.redirect.uris'], 'http://localhost:3000/console/');
    assert.equal(rep.directAccessGrantsEnabled, false);
    assert.equal(rep.implicitFlowEnabled, false);
    assert.deepEqual(spec.defaultScopes, []);
    assert.deepEqual([...spec.optionalScopes].sort(), ['mcp:admin', 'mcp:tools', 'offline_access']);
  });

  it('every preset is a public client without wildcards; LibreChat and mcp-remote follow the options', () => {
    const options = presetOptions(
      loadSeedConfig({ ...base, SEED_LIBRECHAT_URL: 'https://chat.example', SEED_MCP_REMOTE_PORT: '4444' }),
    );
    for (const name of PRESET_NAMES) {
      const spec = hostPreset(name, options);
      assert.ok(spec.redirectUris.length > 0, name);
      assert.ok(
        spec.redirectUris.every((u) => !u.includes('*')),
        name,
      );
      // Optional, never default: a default scope's audience rides along in every token (docs/gateway.md).
      assert.deepEqual(spec.defaultScopes, [], name);
      assert.ok(spec.optionalScopes.includes('mcp:tools'), name);
    }
    assert.deepEqual(hostPreset('librechat', options).redirectUris, [
      'https://chat.example/api/mcp/mcp-keycloak-stack/oauth/callback',
    ]);
    assert.ok(
      hostPreset('mcp-remote', options).redirectUris.includes('http://localhost:4444/oauth/callback'),
    );
  });

  it('mcp-inspector: the web UI on :6274 and the v2 CLI callback on :6276, scopes as the CLI asks them', () => {
    const spec = hostPreset('mcp-inspector', presetOptions(loadSeedConfig(base)));
    for (const uri of [
      'http://localhost:6274/oauth/callback',
      'http://127.0.0.1:6274/oauth/callback',
      'http://127.0.0.1:6276/oauth/callback',
      'http://localhost:6276/oauth/callback',
    ])
      assert.ok(spec.redirectUris.includes(uri), uri);
    assert.ok(spec.redirectUris.every((u) => /^http:\/\/(localhost|127\.0\.0\.1):627[46]\/oauth\//.test(u)));
    // The CLI asks for the server's scopes_supported (mcp:tools mcp:admin) and offline_access.
    assert.deepEqual([...spec.defaultScopes, ...spec.optionalScopes].sort(), [
      'mcp:admin',
      'mcp:tools',
      'offline_access',
    ]);
    assert.equal(publicClientRepresentation(spec).publicClient, true);
    assert.equal(publicClientRepresentation(spec).attributes?.['pkce.code.challenge.method'], 'S256');
  });

  it('printed configurations point at the stack and name the preset client IDs', () => {
    const card = {
      mcpUrl: 'http://localhost:3000/mcp',
      issuer: 'http://localhost:8080/realms/mcp',
      clients: {
        presets: {
          librechat: {
            clientId: 'librechat',
            redirectUris: ['http://localhost:3080/api/mcp/my-mcp/oauth/callback'],
          },
          'mcp-remote': { clientId: 'mcp-remote', redirectUris: ['http://localhost:4444/oauth/callback'] },
          'mcp-inspector': {
            clientId: 'mcp-inspector',
            redirectUris: ['http://127.0.0.1:6276/oauth/callback'],
          },
        },
      },
    } as unknown as StackCard;
    const text = hostConfigs(card)
      .map((b) => b.text)
      .join('\n');
    assert.match(text, /claude mcp add --transport http mcp-keycloak-stack http:\/\/localhost:3000\/mcp/);
    assert.match(text, / {2}my-mcp:\n {4}type: streamable-http/);
    assert.match(text, /token_url: http:\/\/localhost:8080\/realms\/mcp\/protocol\/openid-connect\/token/);
    assert.match(text, /npx mcp-remote http:\/\/localhost:3000\/mcp 4444 --static-oauth-client-info/);
    const inspector = hostConfigs(card).find((b) => b.host === 'mcp-inspector');
    assert.match(inspector?.title ?? '', new RegExp(`tested ${INSPECTOR_VERSION.replace(/\./g, '\\.')}`));
    assert.deepEqual(
      inspector?.text.split('\n').filter((l) => !l.startsWith('#')),
      ['--method tools/list', '--stored-auth-only --method tools/call --tool-name whoami'].map(
        (rest) =>
          `npx @modelcontextprotocol/inspector@${INSPECTOR_VERSION} --cli http://localhost:3000/mcp --client-id mcp-inspector ${rest}`,
      ),
    );
    assert.match(inspector?.text ?? '', /OAuth Settings > Client ID: mcp-inspector/);
    assert.doesNotMatch(inspector?.text ?? '', /OAuth 2\.0 Flow/);
  });

  it('doctor options: environment first, then the card; a missing URL is named', () => {
    assert.throws(() => doctorOptions({}, undefined), /MCP_RESOURCE_URL is not set/);
    assert.throws(() => doctorOptions({ OIDC_ISSUER: 'nope' }, undefined), /OIDC_ISSUER/);
    const o = doctorOptions(
      { MCP_RESOURCE_URL: 'http://h:3000/mcp', OIDC_ISSUER: 'http://k/realms/mcp/,http://other' },
      undefined,
    );
    assert.equal(o.issuer, 'http://k/realms/mcp');
    assert.equal(o.jwksUrl, 'http://k/realms/mcp/protocol/openid-connect/certs');
    assert.equal(o.user, undefined);
  });
});
