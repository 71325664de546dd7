import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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

  it('refuses two services on one port', () => {
    assert.throws(() => loadSettings({ MCP_PORT: '8080' }), /must all differ/);
  });
});
