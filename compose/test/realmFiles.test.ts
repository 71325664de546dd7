import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseRealm, readRealmFiles } from '../native/realmFiles.ts';
import { REALM_EXPORT_DIR } from '../native/paths.ts';
import { LaunchError } from '../native/output.ts';

describe('realm files', () => {
  it('the shipped realm-export/ defines realm "mcp"', async () => {
    const files = await readRealmFiles(REALM_EXPORT_DIR);
    assert.deepEqual(
      files.map((f) => f.realm),
      ['mcp'],
    );
  });

  it('an invalid file is named in the error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'realm-'));
    await writeFile(join(dir, 'broken.json'), '{"realm": "mcp",');
    await assert.rejects(readRealmFiles(dir), (e: unknown) => {
      assert.ok(e instanceof LaunchError);
      assert.equal(e.code, 'realm_file_invalid');
      assert.match(e.message, /broken\.json is not valid JSON/);
      return true;
    });
  });

  it('rejects files that are not one realm object', () => {
    assert.throws(() => parseRealm('a.json', '[]'), /must hold one realm object/);
    assert.throws(() => parseRealm('a.json', '{"realm": "bad name"}'), /no valid "realm" name/);
    assert.throws(() => parseRealm('a.json', '{"realm": "x", "clientScopes": {}}'), /must be an array/);
    assert.equal(parseRealm('a.json', '{"realm": "x"}'), 'x');
  });

  it('an empty directory is an error, not a silent start without a realm', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'realm-'));
    await assert.rejects(readRealmFiles(dir), /no realm file/);
  });
});
