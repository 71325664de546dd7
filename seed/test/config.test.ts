import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PRESET_NAMES } from '../src/clients/presets.ts';
import { loadSeedConfig } from '../src/config.ts';
import { SeedError } from '../src/errors.ts';
import { withStackDefaults } from '../src/stackEnv.ts';

describe('seed configuration', () => {
  it('requires the admin password and names it', () => {
    assert.throws(
      () => loadSeedConfig({}),
      (e: unknown) => {
        assert.ok(e instanceof SeedError);
        assert.equal(e.code, 'config_invalid');
        assert.match(e.message, /KEYCLOAK_ADMIN_PASSWORD/);
        return true;
      },
    );
  });

  it('validates URLs and passwords with the variable named', () => {
    const base = { KEYCLOAK_ADMIN_PASSWORD: 'x' };
    assert.throws(
      () => loadSeedConfig({ ...base, KEYCLOAK_URL: 'localhost:8080' }),
      /KEYCLOAK_URL must be an absolute/,
    );
    assert.throws(
      () => loadSeedConfig({ ...base, SEED_ALICE_PASSWORD: 'short' }),
      /SEED_ALICE_PASSWORD must be at least 12/,
    );
    assert.throws(() => loadSeedConfig({ ...base, SEED_WAIT_SECONDS: 'soon' }), /SEED_WAIT_SECONDS/);
  });

  it('defaults match the native stack', () => {
    const c = loadSeedConfig({ KEYCLOAK_ADMIN_PASSWORD: 'x', KEYCLOAK_URL: 'http://kc:8080/' });
    assert.equal(c.KEYCLOAK_URL, 'http://kc:8080');
    assert.equal(c.KEYCLOAK_REALM, 'mcp');
    assert.equal(c.SEED_M2M_CLIENT_ID, 'mcp-m2m');
    assert.equal(c.SEED_ALICE_PASSWORD, undefined);
  });

  it('takes an empty value as unset (docker-compose.yml passes `VAR: ${VAR:-}`)', () => {
    const c = loadSeedConfig({
      KEYCLOAK_ADMIN_PASSWORD: 'x',
      SEED_PRESETS: '',
      SEED_MCP_URL: '',
      SEED_LIBRECHAT_URL: ' ',
      SEED_LIBRECHAT_SERVER_NAME: '',
      SEED_MCP_REMOTE_PORT: '',
      SEED_WAIT_SECONDS: '',
    });
    assert.deepEqual(c.SEED_PRESETS, [...PRESET_NAMES]);
    assert.equal(c.SEED_MCP_URL, undefined);
    assert.equal(c.SEED_LIBRECHAT_URL, 'http://localhost:3080');
    assert.equal(c.SEED_LIBRECHAT_SERVER_NAME, 'mcp-keycloak-stack');
    assert.equal(c.SEED_MCP_REMOTE_PORT, 3334);
    assert.equal(c.SEED_WAIT_SECONDS, 120);
    assert.throws(() => loadSeedConfig({ KEYCLOAK_ADMIN_PASSWORD: '' }), /KEYCLOAK_ADMIN_PASSWORD/);
  });

  it('reads the admin password from KEYCLOAK_ADMIN_PASSWORD_FILE, and refuses it given twice or missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seed-config-'));
    const file = join(dir, 'admin');
    writeFileSync(file, 'from-the-file-123\n');
    assert.equal(
      loadSeedConfig({ KEYCLOAK_ADMIN_PASSWORD_FILE: file }).KEYCLOAK_ADMIN_PASSWORD,
      'from-the-file-123',
    );
    assert.throws(
      () => loadSeedConfig({ KEYCLOAK_ADMIN_PASSWORD_FILE: file, KEYCLOAK_ADMIN_PASSWORD: 'inline' }),
      /KEYCLOAK_ADMIN_PASSWORD and KEYCLOAK_ADMIN_PASSWORD_FILE are both set/,
    );
    assert.throws(
      () => loadSeedConfig({ KEYCLOAK_ADMIN_PASSWORD_FILE: join(dir, 'missing') }),
      /KEYCLOAK_ADMIN_PASSWORD_FILE: cannot read .*missing \(no such file\)/,
    );
  });

  it('a second run with KEYCLOAK_ADMIN_PASSWORD_FILE ignores the copy in secrets.json (no "both set")', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seed-stackenv-'));
    writeFileSync(join(dir, 'secrets.json'), JSON.stringify({ keycloakAdminPassword: 'card-copy-123' }));
    const file = join(dir, 'admin');
    writeFileSync(file, 'from-the-file-123');
    const { env } = await withStackDefaults({
      STACK_CARD_PATH: join(dir, 'stack.json'),
      KEYCLOAK_ADMIN_PASSWORD_FILE: file,
    });
    assert.equal(env.KEYCLOAK_ADMIN_PASSWORD, undefined);
    assert.equal(loadSeedConfig(env).KEYCLOAK_ADMIN_PASSWORD, 'from-the-file-123');
  });
});
