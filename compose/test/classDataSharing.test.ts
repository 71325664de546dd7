import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  archiveKey,
  archiveName,
  classifyArchiveFiles,
  planClassDataSharing,
  recordingName,
  safeForJavaOpts,
} from '../native/classDataSharing.ts';

describe('Keycloak class-data archive', () => {
  it('is keyed by the build and the exact JVM', () => {
    const key = archiveKey('build A', '/usr/bin/java', 'openjdk 17.0.15');
    assert.match(key, /^[0-9a-f]{16}$/);
    assert.equal(key, archiveKey('build A', '/usr/bin/java', 'openjdk 17.0.15'));
    assert.notEqual(key, archiveKey('build B', '/usr/bin/java', 'openjdk 17.0.15'));
    assert.notEqual(key, archiveKey('build A', '/usr/bin/java', 'openjdk 17.0.16'));
    assert.notEqual(key, archiveKey('build A', '/opt/jdk/bin/java', 'openjdk 17.0.15'));
  });

  it('sorts the cache folder: finished recordings, stale archives, live recordings left alone', () => {
    const archive = archiveName('26.7.3', 'aaaa');
    const names = [
      archive,
      recordingName(archive, 111), // dead launcher: finished
      recordingName(archive, 222), // live launcher: still recording
      archiveName('26.7.3', 'bbbb'), // another build: stale
      recordingName(archiveName('26.7.3', 'bbbb'), 333), // another build, dead: stale
      archiveName('26.6.0', 'cccc'), // another version: not ours to touch
      'keycloak-26.7.3',
      'keycloak-quarkus-dist-26.7.3.tar.gz',
    ];
    const { stale, finished } = classifyArchiveFiles(names, '26.7.3', archive, (pid) => pid === 222);
    assert.deepEqual(finished, [recordingName(archive, 111)]);
    assert.deepEqual(stale, [
      archiveName('26.7.3', 'bbbb'),
      recordingName(archiveName('26.7.3', 'bbbb'), 333),
    ]);
  });

  it('refuses paths kc.sh would split', () => {
    assert.equal(safeForJavaOpts('/home/me/.cache/x.jsa'), true);
    assert.equal(safeForJavaOpts('/home/my name/x.jsa'), false);
    assert.equal(safeForJavaOpts("/home/o'neil/x.jsa"), false);
  });

  it('records when there is no archive, and never uses a file the JVM cannot map', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'cds-test-'));
    try {
      const opts = {
        cacheDir,
        keycloakVersion: '26.7.3',
        build: 'b',
        java: '/nonexistent/java', // every check fails: as for a damaged archive
        javaVersion: 'v',
        classPath: '/nonexistent/quarkus-run.jar',
        pid: 4242,
        isAlive: () => false,
      };
      const archive = join(cacheDir, archiveName('26.7.3', archiveKey('b', '/nonexistent/java', 'v')));
      const fresh = await planClassDataSharing(opts);
      assert.deepEqual(fresh.javaOptions[0], `-XX:ArchiveClassesAtExit=${recordingName(archive, 4242)}`);

      await writeFile(recordingName(archive, 1), 'truncated');
      await writeFile(archive, 'damaged');
      const damaged = await planClassDataSharing(opts);
      assert.deepEqual(damaged.javaOptions, []);
      assert.match(damaged.note, /unusable/);
      assert.deepEqual(await readdir(cacheDir), []);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});
