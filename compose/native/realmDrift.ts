// Keycloak imports realm-export/ only into an empty database. Remembering what was imported lets a start say
// so when the files changed since, instead of leaving someone to wonder why their edit had no effect.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RealmFile } from './realmFiles.ts';

const MARKER = 'imported-realm.sha256';

export async function realmFilesHash(files: RealmFile[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files)
    hash
      .update(file.path)
      .update('\0')
      .update(await readFile(file.path));
  return hash.digest('hex');
}

/** True when the database holds a realm imported from files that have changed since. */
export async function realmChangedSinceImport(keycloakData: string, hash: string): Promise<boolean> {
  if (!existsSync(join(keycloakData, 'h2'))) return false;
  const imported = await readFile(join(keycloakData, MARKER), 'utf8').catch(() => undefined);
  return imported !== undefined && imported.trim() !== hash;
}

/** Records the import of a fresh database; an existing marker stays (that realm is still the old one). */
export async function recordImport(
  keycloakData: string,
  hash: string,
  databaseWasNew: boolean,
): Promise<void> {
  const marker = join(keycloakData, MARKER);
  if (databaseWasNew || !existsSync(marker)) await writeFile(marker, `${hash}\n`);
}
