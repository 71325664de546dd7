// Validates realm-export/ before Keycloak sees it: Keycloak's own error for a bad file is buried in a stack trace.
import { copyFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LaunchError } from './output.ts';

export interface RealmFile {
  path: string;
  realm: string;
}

export async function readRealmFiles(dir: string): Promise<RealmFile[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
  } catch {
    throw new LaunchError('realm_files_missing', `the realm directory ${dir} cannot be read`);
  }
  if (names.length === 0) throw new LaunchError('realm_files_missing', `no realm file (*.json) in ${dir}`);
  const files: RealmFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    files.push({ path, realm: parseRealm(path, await readFile(path, 'utf8')) });
  }
  return files;
}

export function parseRealm(path: string, text: string): string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new LaunchError('realm_file_invalid', `${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new LaunchError('realm_file_invalid', `${path} must hold one realm object`);
  }
  const realm = (data as { realm?: unknown }).realm;
  if (typeof realm !== 'string' || !/^[A-Za-z0-9_-]+$/.test(realm)) {
    throw new LaunchError('realm_file_invalid', `${path} has no valid "realm" name`);
  }
  const scopes = (data as { clientScopes?: unknown }).clientScopes;
  if (scopes !== undefined && !Array.isArray(scopes)) {
    throw new LaunchError('realm_file_invalid', `${path}: "clientScopes" must be an array`);
  }
  return realm;
}

/** Keycloak imports only from <home>/data/import; the folder is ours, so it is replaced on every start. */
export async function stageRealmFiles(files: RealmFile[], keycloakHome: string): Promise<void> {
  const importDir = join(keycloakHome, 'data', 'import');
  await rm(importDir, { recursive: true, force: true });
  await mkdir(importDir, { recursive: true });
  for (const file of files) await copyFile(file.path, join(importDir, `${file.realm}-realm.json`));
}
