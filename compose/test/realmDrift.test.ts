import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { realmChangedSinceImport, realmFilesHash, recordImport } from '../native/realmDrift.ts';

describe('realm drift since import', () => {
  it('says so only when a database holds a realm imported from other files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'drift-'));
    const realm = join(dir, 'mcp-realm.json');
    await writeFile(realm, '{"realm":"mcp"}');
    const data = join(dir, 'keycloak');
    await mkdir(data);
    const first = await realmFilesHash([{ path: realm, realm: 'mcp' }]);
    assert.equal(await realmChangedSinceImport(data, first), false, 'no database yet');

    await mkdir(join(data, 'h2'));
    await recordImport(data, first, true);
    assert.equal(await realmChangedSinceImport(data, first), false, 'same files');

    await writeFile(realm, '{"realm":"mcp","displayName":"changed"}');
    const second = await realmFilesHash([{ path: realm, realm: 'mcp' }]);
    assert.notEqual(second, first);
    assert.equal(await realmChangedSinceImport(data, second), true, 'files changed, database kept');
    await recordImport(data, second, false);
    assert.equal(
      await realmChangedSinceImport(data, second),
      true,
      'a restart does not pretend it re-imported',
    );
  });
});
