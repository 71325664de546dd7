import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../native/paths.ts';
import { mcpServerEnv, mcpServerSpec, seedSpec } from '../native/services.ts';
import { loadSettings, SettingsError } from '../native/settings.ts';

describe('launcher settings', () => {
  it('defaults: Keycloak 8080 and 9000, MCP 3000 and metrics 9464, Valkey 6379, localhost URLs', () => {
    const s = loadSettings({ HOME: '/home/x' });
    assert.deepEqual(s.ports, {
      keycloak: 8080,
      keycloakManagement: 9000,
      mcp: 3000,
      mcpMetrics: 9464,
      valkey: 6379,
    });
    assert.equal(s.issuer, 'http://localhost:8080/realms/mcp');
    assert.equal(s.mcpUrl, 'http://localhost:3000/mcp');
    assert.equal(s.resourceMetadataUrl, 'http://localhost:3000/.well-known/oauth-protected-resource/mcp');
    assert.equal(s.cacheDir, '/home/x/.cache/mcp-keycloak-stack');
  });

  it('names the variable that is wrong', () => {
    assert.throws(
      () => loadSettings({ MCP_PORT: 'abc' }),
      (e: unknown) => {
        assert.ok(e instanceof SettingsError);
        assert.match(e.message, /MCP_PORT/);
        return true;
      },
    );
    assert.throws(() => loadSettings({ KC_PORT: '70000' }), /KC_PORT must be between 1 and 65535/);
    assert.throws(
      () => loadSettings({ KEYCLOAK_VERSION: '25.0.1' }),
      /KEYCLOAK_VERSION must be a Keycloak 26\.7\.x/,
    );
    assert.throws(
      () => loadSettings({ KC_BOOTSTRAP_ADMIN_PASSWORD: 'short' }),
      /KC_BOOTSTRAP_ADMIN_PASSWORD/,
    );
  });

  it('Keycloak: 26.7.x, or 26.5.x as the source of an upgrade only (docs/upgrade.md)', () => {
    assert.deepEqual(
      [loadSettings({}).keycloakVersion, loadSettings({}).keycloakUpgradeSource],
      ['26.7.3', false],
    );
    assert.equal(loadSettings({ KEYCLOAK_VERSION: '26.7.4' }).keycloakUpgradeSource, false);
    assert.equal(loadSettings({ KEYCLOAK_VERSION: '26.5.6' }).keycloakUpgradeSource, true);
    for (const version of ['26.6.0', '26.4.7', '27.0.0', '26.7', '26.5.6-SNAPSHOT']) {
      assert.throws(
        () => loadSettings({ KEYCLOAK_VERSION: version }),
        /KEYCLOAK_VERSION must be a Keycloak 26\.7\.x release.*26\.5\.x only to run a stack made with it/,
        version,
      );
    }
  });

  it('refuses two services on one port', () => {
    assert.throws(() => loadSettings({ MCP_PORT: '8080' }), /must all differ/);
  });

  it('upstreams file: the repository’s by default, an absolute path when given, none when empty', () => {
    assert.equal(loadSettings({}).upstreamsFile, join(REPO_ROOT, 'compose', 'gateway', 'upstreams.yaml'));
    assert.equal(
      loadSettings({ MCP_UPSTREAMS_FILE: 'my/upstreams.yaml' }).upstreamsFile,
      resolve('my/upstreams.yaml'),
    );
    assert.equal(loadSettings({ MCP_UPSTREAMS_FILE: '' }).upstreamsFile, undefined);
  });

  it('the seed and the MCP server get the same upstreams file, the server the gateway client once seeded', () => {
    const secrets = {
      keycloakAdminUsername: 'admin',
      keycloakAdminPassword: 'x'.repeat(16),
      valkeyPassword: 'v',
    };
    const settings = loadSettings({ MCP_UPSTREAMS_FILE: '/etc/u.yaml' });
    assert.equal(seedSpec(settings, secrets).env?.MCP_UPSTREAMS_FILE, '/etc/u.yaml');
    const server = mcpServerSpec(settings, secrets);
    assert.equal(server.env?.MCP_UPSTREAMS_FILE, '/etc/u.yaml');
    // The default file's stdio commands are relative (node_modules/…).
    assert.equal(server.cwd, REPO_ROOT);
    assert.equal(mcpServerEnv(settings, secrets).MCP_GATEWAY_CLIENT_ID, undefined);
    const gateway = { clientId: 'mcp-gateway', clientSecret: 's3cret' };
    assert.equal(mcpServerEnv(settings, secrets, gateway).MCP_GATEWAY_CLIENT_SECRET, 's3cret');
    // None: an empty value, so one in the launcher's own environment does not reach them.
    const none = loadSettings({ MCP_UPSTREAMS_FILE: '' });
    assert.equal(seedSpec(none, secrets).env?.MCP_UPSTREAMS_FILE, '');
    assert.equal(mcpServerEnv(none, secrets).MCP_UPSTREAMS_FILE, '');
  });
});
