// The backup archive of a native stack: one .tar.gz (Debian's `tar`) holding manifest.json, the Keycloak H2
// database, Valkey's data as an AOF folder, realm-export/ as shipped, the stack card and the stack's secrets.
// Not encrypted: the archive is written 0600 and holds secrets (docs/operations.md, "Backup and restore").
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';

export const BACKUP_FORMAT = 'mcp-keycloak-stack-backup';
export const BACKUP_FORMAT_VERSION = 1;

/** Top-level entries an archive may hold; anything else makes it unknown. */
export const ARCHIVE_ENTRIES = [
  'manifest.json',
  'keycloak',
  'valkey',
  'realm-export',
  'stack.json',
  'secrets.json',
] as const;

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  createdAt: string;
  mode: 'native';
  keycloakVersion: string;
  database: 'h2-dev-file';
  valkeyVersion: string;
  realm: string;
  /** Whether the stack was running (Keycloak then held stopped for the copy). */
  stackWasRunning: boolean;
  /** Secrets inside, in plain text: the archive is 0600 and must be kept like the stack dir itself. */
  secrets: 'plain';
  /** Every file but the manifest, with its sha256: a restore checks each before touching anything. */
  files: Record<string, { bytes: number; sha256: string }>;
}

const run = promisify(execFile);

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The files under `root`, as archive paths (forward slashes), sorted. */
export async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

export async function describeFiles(root: string): Promise<BackupManifest['files']> {
  const files: BackupManifest['files'] = {};
  for (const path of await listFiles(root)) {
    if (path === 'manifest.json') continue;
    const full = join(root, path);
    files[path] = { bytes: (await stat(full)).size, sha256: await sha256File(full) };
  }
  return files;
}

export async function createTarGz(sourceDir: string, archive: string): Promise<void> {
  await run('tar', ['-czf', archive, '-C', sourceDir, ...ARCHIVE_ENTRIES]);
}

export class ArchiveError extends Error {
  readonly code = 'backup_archive_invalid';
}

/** Lists the archive and refuses anything but plain relative paths under the known top-level entries. */
export async function checkEntries(archive: string): Promise<void> {
  let listing: string;
  try {
    listing = (await run('tar', ['-tzf', archive], { maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (error) {
    throw new ArchiveError(
      `${archive} is not a readable .tar.gz (${(error as Error).message.split('\n')[0]})`,
    );
  }
  const names = listing.split('\n').filter(Boolean);
  if (!names.includes('manifest.json'))
    throw new ArchiveError(`${archive} has no manifest.json: not a backup`);
  for (const name of names) {
    const top = name.split('/')[0] as string;
    if (
      name.startsWith('/') ||
      name.split('/').includes('..') ||
      !(ARCHIVE_ENTRIES as readonly string[]).includes(top)
    ) {
      throw new ArchiveError(`${archive} holds an unexpected entry "${name}": not a backup of this stack`);
    }
  }
}

export async function extractTarGz(archive: string, into: string): Promise<void> {
  await run('tar', ['-xzf', archive, '-C', into, '--no-same-owner', '--no-same-permissions']);
}

/** Reads and checks the manifest of an extracted archive, then every file's size and hash against it. */
export async function verifyExtracted(dir: string): Promise<BackupManifest> {
  const text = await readFile(join(dir, 'manifest.json'), 'utf8').catch(() => undefined);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(text ?? '') as BackupManifest;
  } catch {
    throw new ArchiveError('manifest.json is not JSON');
  }
  if (manifest.format !== BACKUP_FORMAT)
    throw new ArchiveError(`unknown archive format "${String(manifest.format)}"`);
  if (manifest.formatVersion !== BACKUP_FORMAT_VERSION) {
    throw new ArchiveError(
      `archive format version ${manifest.formatVersion}; this launcher reads ${BACKUP_FORMAT_VERSION}`,
    );
  }
  if (manifest.mode !== 'native')
    throw new ArchiveError(`a ${String(manifest.mode)} backup; only native ones restore here`);
  const present = (await listFiles(dir)).filter((p) => p !== 'manifest.json');
  const listed = Object.keys(manifest.files ?? {}).sort();
  if (present.join('\n') !== listed.join('\n')) {
    throw new ArchiveError('the files in the archive differ from those its manifest lists');
  }
  for (const need of ['secrets.json', 'stack.json']) {
    if (!listed.includes(need)) throw new ArchiveError(`the archive lacks ${need}`);
  }
  if (!listed.some((p) => p.startsWith('keycloak/h2/')))
    throw new ArchiveError('the archive holds no Keycloak database');
  if (!listed.includes('valkey/appendonlydir/appendonly.aof.manifest')) {
    throw new ArchiveError('the archive holds no Valkey data');
  }
  for (const path of listed) {
    const expected = manifest.files[path] as { bytes: number; sha256: string };
    if ((await sha256File(join(dir, path))) !== expected.sha256) {
      throw new ArchiveError(`${path} does not match its hash in the manifest: the archive is corrupt`);
    }
  }
  return manifest;
}
