import assert from 'node:assert/strict';
import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readLock, removeLock, writeLock, type LauncherLock } from '../native/launcherLock.ts';

describe('launcher lock', () => {
  it('concurrent writes never leave a torn file or a temp file behind; the file is 0600', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lock-'));
    const path = join(dir, 'launcher.json');
    const locks: LauncherLock[] = Array.from({ length: 20 }, (_, i) => ({
      pid: 1000 + i,
      startedAt: '2026-01-01T00:00:00Z',
      children: [{ name: 'Valkey', pid: 2000 + i }],
    }));
    const reads: Promise<LauncherLock | undefined>[] = [];
    await Promise.all(
      locks.map(async (lock) => {
        await writeLock(path, lock);
        reads.push(readLock(path));
      }),
    );
    for (const read of await Promise.all(reads)) assert.ok(read && read.pid >= 1000, 'a whole lock');
    assert.deepEqual(await readdir(dir), ['launcher.json']);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    await removeLock(path);
    assert.equal(await readLock(path), undefined);
  });
});
