// `npm run restore -- file.tar.gz [--force]`: puts a backup (backup.ts) into STACK_DIR, for `npm start` to bring
// up. Refuses while a stack runs there, and refuses an archive it cannot fully check before touching anything:
// the archive is listed, extracted into a temporary folder inside STACK_DIR and verified against its manifest
// (every file's sha256) first; only then are the folders moved into place.
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readStackCard, updateStackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { ArchiveError, checkEntries, extractTarGz, listFiles, verifyExtracted } from './backupArchive.ts';
import { newerRelease } from './databaseVersion.ts';
import { isAlive, readLock } from './launcherLock.ts';
import { LaunchError, say } from './output.ts';
import { REALM_EXPORT_DIR, stackPaths } from './paths.ts';
import { findValkeyServer } from './prerequisites.ts';
import { loadSettings, SettingsError } from './settings.ts';
import { loadFailureHint, valkeyLoads } from './valkeyLoadCheck.ts';

function usage(message: string): LaunchError {
  return new LaunchError('usage', `${message} (usage: npm run restore -- backup.tar.gz [--force])`);
}

async function sameRealmFiles(restored: string): Promise<boolean> {
  const [ours, theirs] = [await listFiles(REALM_EXPORT_DIR), await listFiles(restored)];
  if (ours.join('\n') !== theirs.join('\n')) return false;
  for (const file of ours) {
    const [a, b] = [await readFile(join(REALM_EXPORT_DIR, file)), await readFile(join(restored, file))];
    if (!a.equals(b)) return false;
  }
  return true;
}

/** Set once the checks passed and files start moving: a failure after that cannot say "nothing changed". */
let changing = false;

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: { force: { type: 'boolean', default: false } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw usage((error as Error).message);
  }
  if (parsed.positionals.length !== 1) throw usage('name one backup archive');
  const archive = resolve(parsed.positionals[0] as string);
  if (!existsSync(archive)) throw usage(`${archive} does not exist`);
  const settings = loadSettings();
  const paths = stackPaths(settings.stackDir);

  const lock = await readLock(paths.lock);
  if (lock && (isAlive(lock.pid) || lock.children.some((c) => isAlive(c.pid)))) {
    throw new LaunchError(
      'stack_running',
      `a stack is running in ${settings.stackDir} (launcher pid ${lock.pid}): \`npm run stop\` it first ` +
        '(restoring replaces its data), or restore into another STACK_DIR',
    );
  }
  const existing = [paths.keycloakData, paths.valkeyData, paths.card, paths.secrets].filter((p) =>
    existsSync(p),
  );
  if (existing.length > 0 && !parsed.values.force) {
    throw new LaunchError(
      'stack_dir_in_use',
      `${settings.stackDir} already holds a stack's data (${existing.join(', ')}); restore into a fresh ` +
        'STACK_DIR, or pass --force to move that data aside first',
    );
  }

  await checkEntries(archive);
  await mkdir(settings.stackDir, { recursive: true, mode: 0o700 });
  const temp = await mkdtemp(join(settings.stackDir, '.restore-'));
  try {
    await extractTarGz(archive, temp);
    const manifest = await verifyExtracted(temp);
    if (newerRelease(manifest.keycloakVersion, settings.keycloakVersion)) {
      throw new ArchiveError(
        `the backup is of Keycloak ${manifest.keycloakVersion}, newer than ${settings.keycloakVersion}: ` +
          'Keycloak migrates a database forward only (set KEYCLOAK_VERSION)',
      );
    }
    // Read here, not after the move: a card the launcher cannot read would fail the restore half done.
    await readStackCard(join(temp, 'stack.json')).catch((error: unknown) => {
      throw new ArchiveError(`the archive's stack card: ${(error as Error).message.replace(/;.*$/, '')}`);
    });
    // The data must load in the server `npm start` will run, or the stack would not come up after the restore.
    // No server yet (a fresh machine: `npm start` installs it): nothing to ask.
    const valkeyServer = await findValkeyServer().catch(() => undefined);
    if (valkeyServer) {
      const load = await valkeyLoads(valkeyServer.path, join(temp, 'valkey', 'appendonlydir'));
      if (!load.loaded) {
        throw new LaunchError(
          'backup_valkey_unreadable',
          `this machine's ${valkeyServer.flavour}-server cannot load the backup's Valkey data (written by ` +
            `Valkey ${manifest.valkeyVersion}): ${load.reason}; ${loadFailureHint(load.reason, valkeyServer.flavour)}`,
        );
      }
      say(`Valkey data: loads in this machine's ${valkeyServer.flavour}-server`);
    } else {
      say('note: no valkey-server or redis-server here yet, so the Valkey data was not test-loaded');
    }
    if (manifest.realm !== settings.realm) {
      say(`note: the backup's realm is "${manifest.realm}"; KEYCLOAK_REALM is "${settings.realm}"`);
    }

    // Checked: from here on the stack dir changes.
    changing = true;
    if (existing.length > 0) {
      const aside = join(settings.stackDir, `replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      await mkdir(aside, { mode: 0o700 });
      for (const path of existing) await rename(path, join(aside, path.slice(settings.stackDir.length + 1)));
      say(`moved the stack dir's previous data to ${aside}`);
    }
    await rename(join(temp, 'keycloak'), paths.keycloakData);
    await mkdir(paths.valkeyData, { recursive: true, mode: 0o700 });
    await rename(join(temp, 'valkey', 'appendonlydir'), join(paths.valkeyData, 'appendonlydir'));
    await rename(join(temp, 'secrets.json'), paths.secrets);
    await chmod(paths.secrets, 0o600);
    await rename(join(temp, 'stack.json'), paths.card);
    await chmod(paths.card, 0o600);
    await updateStackCard(paths.card, (card) => ({ ...card, status: 'stopped' }));
    if (!(await sameRealmFiles(join(temp, 'realm-export')))) {
      say(
        'note: realm-export/ differs from the copy in the backup; the restored database keeps the realm as it ' +
          "was (Keycloak does not re-import it). The backup's copy is in the archive, under realm-export/.",
      );
    }
    say(
      `restored ${archive} (made ${manifest.createdAt}, Keycloak ${manifest.keycloakVersion}, Valkey ` +
        `${manifest.valkeyVersion}) into ${settings.stackDir}; \`npm start\` brings the stack up with it`,
    );
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  if (error instanceof LaunchError || error instanceof SettingsError || error instanceof ArchiveError) {
    console.error(
      `[stack] restore failed (${error.code}): ${error.message}${changing ? '' : '; nothing was changed'}`,
    );
  } else {
    console.error('[stack] restore failed:', error);
  }
  process.exit(1);
});
