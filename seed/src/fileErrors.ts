// A failed file operation (node:fs) reported as what it is: the operation, the path, who the seed runs as, and
// the fix — never as a Keycloak failure, which is what main.ts says of an error it cannot place.
import { dirname, relative, resolve } from 'node:path';
import { cardFolderFix, nodeProcess, type Identity } from './cardFolder.ts';
import { SeedError } from './errors.ts';

/** What the message needs to name the fix: where the card is, and whether this is the compose seed. */
export interface FileContext {
  /** The stack card's path: a file in its folder (the card, its temp file, secrets.json) gets that folder's fix. */
  cardPath: string;
  /** STACK_MODE=compose: the card folder is the host's STACK_DIR mounted into the container. */
  compose: boolean;
  /** Who the process runs as; default: this process. */
  who?: Identity;
}

interface FsError extends Error {
  code: string;
  syscall: string;
  path: string;
  dest?: string;
}

/** A node:fs error: a string code, the system call and the path it concerned (a socket error has no path). */
export function isFsError(error: unknown): error is FsError {
  const e = error as Partial<FsError>;
  return (
    error instanceof Error &&
    typeof e.code === 'string' &&
    typeof e.syscall === 'string' &&
    typeof e.path === 'string'
  );
}

const DENIED = new Set(['EACCES', 'EPERM', 'EROFS']);

const OPERATIONS: Record<string, string> = {
  open: 'open',
  mkdir: 'create the folder',
  rename: 'rename',
  unlink: 'delete',
  rmdir: 'delete the folder',
  scandir: 'list the folder',
  stat: 'look at',
  lstat: 'look at',
  access: 'write into',
  chmod: 'change the mode of',
  copyfile: 'copy',
};

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'something of that name exists already',
  EMFILE: 'too many open files',
};

const isInside = (path: string, dir: string) => {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
};

/** The SeedError for a node:fs error (`file_access_denied` or `file_failed`); undefined for anything else. */
export function fileErrorOf(error: unknown, context: FileContext): SeedError | undefined {
  if (!isFsError(error)) return undefined;
  const what = `${OPERATIONS[error.syscall] ?? error.syscall} ${error.path}${error.dest ? ` to ${error.dest}` : ''}`;
  const who = context.who ?? nodeProcess.current();
  if (!DENIED.has(error.code)) {
    return new SeedError(
      'file_failed',
      `cannot ${what}: ${REASONS[error.code] ?? error.message} (${error.code})`,
    );
  }
  const reason =
    error.code === 'EROFS'
      ? 'the file system is read-only (EROFS)'
      : `permission denied (${error.code}) for uid ${who.uid} gid ${who.gid}`;
  const cardDir = dirname(resolve(context.cardPath));
  const fix = isInside(resolve(error.path), cardDir)
    ? cardFolderFix(cardDir, who, context.compose)
    : `Make it accessible to uid ${who.uid} gid ${who.gid}, or point the setting that names it elsewhere.`;
  return new SeedError('file_access_denied', `cannot ${what}: ${reason}. ${fix}`);
}
