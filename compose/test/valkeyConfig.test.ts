// The native Valkey's password and disabled CONFIG (issue 11, item 8), and the URL forms that carry it.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mcpServerEnv, valkeySpec } from '../native/services.ts';
import { loadSettings } from '../native/settings.ts';
import { redactValkeyUrl, valkeyUrlWithPassword, writeValkeyConfig } from '../native/valkeyConfig.ts';

const secrets = {
  keycloakAdminUsername: 'admin',
  keycloakAdminPassword: 'x'.repeat(12),
  valkeyPassword: 'pw-abc_123',
};

describe('native Valkey configuration', () => {
  it('the file sets requirepass, renames CONFIG away and is readable by its owner only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'valkey-conf-'));
    try {
      const path = join(dir, 'valkey.conf');
      await writeValkeyConfig(path, secrets.valkeyPassword);
      const text = await readFile(path, 'utf8');
      assert.match(text, /^requirepass "pw-abc_123"$/m);
      assert.match(text, /^rename-command CONFIG ""$/m);
      assert.equal((await stat(path)).mode & 0o777, 0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('Valkey starts from that file; the password is never on its command line', () => {
    const settings = loadSettings({ STACK_DIR: '/tmp/some-stack' });
    const spec = valkeySpec(settings, 'valkey-server');
    assert.equal(spec.args[0], '/tmp/some-stack/valkey.conf');
    assert.ok(!spec.args.join(' ').includes(secrets.valkeyPassword));
  });

  it('the MCP server gets the password in VALKEY_URL and a private metrics port', () => {
    const env = mcpServerEnv(loadSettings({ VALKEY_PORT: '6390', MCP_METRICS_PORT: '9470' }), secrets);
    assert.equal(env.VALKEY_URL, 'redis://:pw-abc_123@127.0.0.1:6390');
    assert.equal(env.MCP_METRICS_PORT, '9470');
    assert.equal(env.MCP_METRICS_HOST, '127.0.0.1');
  });

  it('people see the URL without the password', () => {
    const url = valkeyUrlWithPassword(6379, 'p@ss/word');
    assert.equal(new URL(url).password, 'p%40ss%2Fword');
    assert.ok(!/p%40ss|word@/.test(redactValkeyUrl(url)), redactValkeyUrl(url));
    assert.equal(redactValkeyUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
  });
});
