// A restore asks this machine's Valkey to load the backup's data before it moves anything into place
// (compose/native/valkeyLoadCheck.ts): data the server cannot read — Valkey 8's RDB format 11 on Debian
// bookworm's redis-server 7.0, which reads 10 at most — is refused with the reason and the fix, and the stack dir
// stays as it was. Real valkey-server; a format newer than it reads stands in for the Redis 7.0 case (the
// same refusal: "Can't handle RDB format version"). No Keycloak: the archive's database is never opened. ≈ 3 s.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  createTarGz,
  describeFiles,
  type BackupManifest,
} from '../../../compose/native/backupArchive.ts';
import { findValkeyServer } from '../../../compose/native/prerequisites.ts';
import { launcher } from '../../../compose/test/production/nativeStack.ts';
import { loadFailureHint, valkeyLoads } from '../../../compose/native/valkeyLoadCheck.ts';
import { REPO_ROOT } from '../e2e/support/stack.ts';

const run = promisify(execFile);

/** A real RDB snapshot with one key, written by this machine's Valkey (SAVE), as backup.ts takes it. */
async function realSnapshot(server: string, dir: string): Promise<Buffer> {
  const socket = join(dir, 'v.sock');
  const child = spawn(server, ['--port', '0', '--unixsocket', socket, '--dir', dir, '--save', ''], {
    stdio: 'ignore',
  });
  try {
    for (let i = 0; !existsSync(socket); i++) {
      if (i > 100) throw new Error(`${server} did not open ${socket}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const cli = server.replace(/-server$/, '-cli');
    await run(cli, ['-s', socket, 'SET', 'mcp:usage:alice', '7']);
    await run(cli, ['-s', socket, 'SAVE']);
    return await readFile(join(dir, 'dump.rdb'));
  } finally {
    child.kill('SIGKILL');
  }
}

/** An AOF folder as backup.ts writes it: the snapshot as the base file, and the manifest naming it. */
async function aofFolder(dir: string, rdb: Buffer): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'appendonly.aof.1.base.rdb'), rdb);
  await writeFile(join(dir, 'appendonly.aof.manifest'), 'file appendonly.aof.1.base.rdb seq 1 type b\n');
  return dir;
}

/** The same snapshot claiming a format no server reads yet (the header is "REDIS" + four digits). */
const fromTheFuture = (rdb: Buffer) => Buffer.concat([Buffer.from('REDIS0099'), rdb.subarray(9)]);

const STACK_CARD = {
  version: 1,
  mode: 'native',
  status: 'ready',
  issuer: 'http://127.0.0.1:8080/realms/mcp',
  keycloakUrl: 'http://127.0.0.1:8080',
  realm: 'mcp',
  mcpUrl: 'http://127.0.0.1:3000/mcp',
  resourceMetadataUrl: 'http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp',
  valkeyUrl: 'redis://127.0.0.1:6379',
  users: [],
  clients: {},
};

/** A native backup archive around the given Valkey data (the Keycloak database is a stand-in: never opened). */
async function archiveWith(root: string, rdb: Buffer, card: object = STACK_CARD): Promise<string> {
  const staging = join(root, `staging-${Math.random().toString(36).slice(2)}`);
  await mkdir(join(staging, 'keycloak', 'h2'), { recursive: true });
  await writeFile(join(staging, 'keycloak', 'h2', 'keycloakdb.mv.db'), 'not opened by a restore');
  await aofFolder(join(staging, 'valkey', 'appendonlydir'), rdb);
  await mkdir(join(staging, 'realm-export'));
  await copyFile(
    join(REPO_ROOT, 'realm-export', 'mcp-realm.json'),
    join(staging, 'realm-export', 'mcp-realm.json'),
  );
  await writeFile(join(staging, 'stack.json'), JSON.stringify(card));
  await writeFile(join(staging, 'secrets.json'), JSON.stringify({ valkeyPassword: 'x' }));
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    formatVersion: BACKUP_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    mode: 'native',
    keycloakVersion: '26.5.6',
    database: 'h2-dev-file',
    valkeyVersion: '99.0.0',
    realm: 'mcp',
    stackWasRunning: false,
    secrets: 'plain',
    files: await describeFiles(staging),
  };
  await writeFile(join(staging, 'manifest.json'), JSON.stringify(manifest));
  const archive = `${staging}.tar.gz`;
  await createTarGz(staging, archive);
  return archive;
}

const restore = (archive: string, stackDir: string) =>
  launcher('restore.ts', [archive], { ...process.env, STACK_DIR: stackDir }, 60_000);

describe('restore: the backup’s Valkey data must load in this machine’s server', () => {
  let root: string;
  let server: { path: string; flavour: 'valkey' | 'redis' };
  let snapshot: Buffer;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'restore-valkey-'));
    server = await findValkeyServer();
    snapshot = await realSnapshot(server.path, await mkdtemp(join(root, 'snap-')));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('a snapshot of this server loads; one in a format it cannot read is refused with the server’s reason', async () => {
    assert.deepEqual(await valkeyLoads(server.path, await aofFolder(join(root, 'good'), snapshot)), {
      loaded: true,
    });
    const refused = await valkeyLoads(
      server.path,
      await aofFolder(join(root, 'new'), fromTheFuture(snapshot)),
    );
    assert.equal(refused.loaded, false);
    assert.match((refused as { reason: string }).reason, /RDB format version 99/);
    // On the Redis fallback the fix is Valkey itself.
    assert.match(loadFailureHint((refused as { reason: string }).reason, 'redis'), /install valkey-server/);
  });

  it('restore refuses such an archive before touching the stack dir, and restores the readable one', async () => {
    const stackDir = join(root, 'stack');
    const refused = await restore(await archiveWith(root, fromTheFuture(snapshot)), stackDir);
    assert.equal(refused.code, 1, refused.output);
    assert.match(refused.output, /backup_valkey_unreadable/);
    assert.match(refused.output, /RDB format version 99/);
    assert.match(refused.output, /nothing was changed/);
    for (const entry of ['keycloak', 'valkey', 'stack.json', 'secrets.json']) {
      assert.ok(!existsSync(join(stackDir, entry)), `${entry} was written by a refused restore`);
    }

    // The same for a stack card the launcher could not read (it used to fail after the data had moved).
    const badCard = await restore(await archiveWith(root, snapshot, { version: 2 }), stackDir);
    assert.equal(badCard.code, 1, badCard.output);
    assert.match(
      badCard.output,
      /backup_archive_invalid\): the archive's stack card: .* not a version 1 stack card/,
    );
    assert.match(badCard.output, /nothing was changed/);
    assert.ok(!existsSync(join(stackDir, 'keycloak')), 'a refused restore moved the database in');

    const restored = await restore(await archiveWith(root, snapshot), stackDir);
    assert.equal(restored.code, 0, restored.output);
    assert.match(restored.output, /Valkey data: loads in this machine's/);
    assert.deepEqual(
      await readFile(join(stackDir, 'valkey', 'appendonlydir', 'appendonly.aof.1.base.rdb')),
      snapshot,
    );
    assert.equal(JSON.parse(await readFile(join(stackDir, 'stack.json'), 'utf8')).status, 'stopped');
  });
});
