// `npm run backup [-- --out file.tar.gz]`: one archive of the native stack in STACK_DIR (backupArchive.ts),
// whether it runs or not. Running: Valkey writes a snapshot (SAVE), and Keycloak is held stopped by the
// launcher while its H2 files are copied (maintenance.ts), then started again: logins fail for that while.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, cp, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { Redis as Valkey } from 'iovalkey';
import { readStackCard } from '@mcp-keycloak-stack/seed/stackCard';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  createTarGz,
  describeFiles,
  type BackupManifest,
} from './backupArchive.ts';
import { readDatabaseVersion } from './databaseVersion.ts';
import { isAlive, readLock, type ProcessStatus } from './launcherLock.ts';
import { endMaintenance, requestMaintenance } from './maintenance.ts';
import { LaunchError, say, seconds } from './output.ts';
import { REALM_EXPORT_DIR, stackPaths } from './paths.ts';
import { findValkeyServer } from './prerequisites.ts';
import { loadSettings, SettingsError } from './settings.ts';

const HELD_WITHIN_MS = 60_000;

async function processState(lockPath: string, name: string): Promise<ProcessStatus | undefined> {
  return (await readLock(lockPath))?.processes?.find((p) => p.name === name);
}

async function waitFor(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new LaunchError('backup_timeout', `${what} within ${seconds(ms)}`);
    await sleep(250);
  }
}

/** Valkey's data as an AOF folder with one base file, which a Valkey with appendonly=yes loads at start. */
async function stageRdbAsAof(rdb: string, into: string): Promise<void> {
  const dir = join(into, 'appendonlydir');
  await mkdir(dir, { recursive: true });
  await copyFile(rdb, join(dir, 'appendonly.aof.1.base.rdb'));
  await writeFile(join(dir, 'appendonly.aof.manifest'), 'file appendonly.aof.1.base.rdb seq 1 type b\n');
}

async function main(): Promise<void> {
  let values: { out?: string };
  try {
    values = parseArgs({ options: { out: { type: 'string' } }, strict: true }).values;
  } catch (error) {
    throw new LaunchError(
      'usage',
      `${(error as Error).message} (usage: npm run backup [-- --out file.tar.gz])`,
    );
  }
  const settings = loadSettings();
  const paths = stackPaths(settings.stackDir);
  const out = resolve(
    values.out ?? `mcp-keycloak-stack-backup-${new Date().toISOString().replace(/[:.]/g, '-')}.tar.gz`,
  );
  if (!existsSync(join(paths.keycloakData, 'h2'))) {
    throw new LaunchError(
      'nothing_to_back_up',
      `${settings.stackDir} holds no stack (no Keycloak database yet)`,
    );
  }
  const lock = await readLock(paths.lock);
  const running = lock !== undefined && isAlive(lock.pid);
  if (lock && !running && lock.children.some((c) => isAlive(c.pid))) {
    throw new LaunchError(
      'stack_half_stopped',
      'the launcher is gone but its processes still run: `npm run stop` first',
    );
  }
  if (running && !lock.processes) {
    throw new LaunchError('stack_starting', 'the stack is still starting; back it up once it is up');
  }
  const card = await readStackCard(paths.card);
  if (!card) throw new LaunchError('stack_card_missing', `no stack card at ${paths.card}`);

  process.umask(0o077); // everything written from here on (staging copies, the archive) is the owner's only
  const staging = await mkdtemp(join(tmpdir(), 'mcp-stack-backup-'));
  try {
    let valkeyVersion = 'unknown';
    if (running) {
      const client = new Valkey(card.valkeyUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await client.connect();
        const info = await client.info('server');
        valkeyVersion = /(?:valkey|redis)_version:(\S+)/.exec(info)?.[1] ?? valkeyVersion;
        await client.call('SAVE'); // a consistent point-in-time snapshot, dump.rdb in Valkey's --dir
      } finally {
        client.disconnect();
      }
      const rdb = join(paths.valkeyData, 'dump.rdb');
      await stageRdbAsAof(rdb, join(staging, 'valkey'));
      await rm(rdb, { force: true }); // Valkey loads its AOF, never this file: do not leave a stale copy around
      say(`Valkey: snapshot taken (SAVE, ${valkeyVersion})`);
    } else {
      await cp(join(paths.valkeyData, 'appendonlydir'), join(staging, 'valkey', 'appendonlydir'), {
        recursive: true,
      });
      const server = await findValkeyServer();
      const version = (await promisify(execFile)(server.path, ['--version'])).stdout;
      valkeyVersion = /v=(\S+)/.exec(version)?.[1] ?? valkeyVersion;
      say('Valkey: AOF folder copied (stack stopped)');
    }

    if (running) {
      const heldAt = Date.now();
      await requestMaintenance(settings.stackDir, {
        pid: process.pid,
        hold: ['Keycloak'],
        reason: 'npm run backup',
      });
      try {
        say('Keycloak: asking the launcher to hold it stopped while its H2 database is copied …');
        await waitFor(
          'Keycloak was not held',
          HELD_WITHIN_MS,
          async () => (await processState(paths.lock, 'Keycloak'))?.state === 'held',
        );
        await cp(paths.keycloakData, join(staging, 'keycloak'), { recursive: true });
      } finally {
        await endMaintenance(settings.stackDir);
      }
      await waitFor(
        'Keycloak was not running again',
        settings.keycloakStartTimeoutMs + 5_000,
        async () => (await processState(paths.lock, 'Keycloak'))?.state === 'running',
      );
      say(`Keycloak: database copied; it was down ${seconds(Date.now() - heldAt)} and is running again`);
    } else {
      await cp(paths.keycloakData, join(staging, 'keycloak'), { recursive: true });
      say('Keycloak: database copied (stack stopped)');
    }

    await cp(REALM_EXPORT_DIR, join(staging, 'realm-export'), { recursive: true });
    await copyFile(paths.card, join(staging, 'stack.json'));
    await copyFile(paths.secrets, join(staging, 'secrets.json'));
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      formatVersion: BACKUP_FORMAT_VERSION,
      createdAt: new Date().toISOString(),
      mode: 'native',
      // The release the database is at (recorded by the launcher), not what this shell's KEYCLOAK_VERSION says.
      keycloakVersion: (await readDatabaseVersion(paths.keycloakData)) ?? settings.keycloakVersion,
      database: 'h2-dev-file',
      valkeyVersion,
      realm: settings.realm,
      stackWasRunning: running,
      secrets: 'plain',
      files: await describeFiles(staging),
    };
    await writeFile(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const temp = `${out}.${process.pid}.tmp`;
    try {
      await createTarGz(staging, temp);
      await chmod(temp, 0o600);
      await rename(temp, out);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    say(
      `backup written to ${out} (mode 0600; it holds the stack's secrets in plain text: keep it like .stack/)`,
    );
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  if (error instanceof LaunchError || error instanceof SettingsError) {
    console.error(`[stack] backup failed (${error.code}): ${error.message}`);
  } else {
    console.error('[stack] backup failed:', error);
  }
  process.exit(1);
});
