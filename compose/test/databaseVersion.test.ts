import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  newerRelease,
  readDatabaseVersion,
  recordDatabaseVersion,
  versionStep,
} from '../native/databaseVersion.ts';

describe('the Keycloak release a database was last run by', () => {
  it('compares releases by number, not as text', () => {
    assert.equal(newerRelease('26.7.3', '26.5.6'), true);
    assert.equal(newerRelease('26.5.10', '26.5.9'), true);
    assert.equal(newerRelease('26.5.6', '26.7.3'), false);
    assert.equal(newerRelease('26.7.3', '26.7.3'), false);
  });

  it('a newer release upgrades, an older one would go back, no record says nothing', () => {
    assert.deepEqual(versionStep('26.5.6', '26.7.3'), { kind: 'upgrade', from: '26.5.6' });
    assert.deepEqual(versionStep('26.7.3', '26.5.6'), { kind: 'downgrade', from: '26.7.3' });
    assert.deepEqual(versionStep('26.7.3', '26.7.3'), { kind: 'same' });
    assert.deepEqual(versionStep(undefined, '26.7.3'), { kind: 'unknown' });
  });

  it('is kept beside the database (0600), and a damaged record counts as none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kc-version-'));
    try {
      assert.equal(await readDatabaseVersion(dir), undefined);
      await recordDatabaseVersion(dir, '26.5.6');
      assert.equal(await readFile(join(dir, 'keycloak-version'), 'utf8'), '26.5.6\n');
      assert.equal((await stat(join(dir, 'keycloak-version'))).mode & 0o777, 0o600);
      assert.equal(await readDatabaseVersion(dir), '26.5.6');
      await writeFile(join(dir, 'keycloak-version'), 'garbage\n');
      assert.equal(await readDatabaseVersion(dir), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
