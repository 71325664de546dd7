// The stack card's folder (.stack/, STACK_DIR): whose identity writes into it, and a refusal that says what to
// set when it cannot be written.
//
// Compose starts the seed and stack-ready as root unless STACK_UID/STACK_GID are set in .env. Before anything
// touches the card they take the identity of the folder's owner (prepareCardFolder), so `docker compose up` works
// whoever created .stack — root, uid 1000, uid 1001 — and the card stays that person's, without asking a
// newcomer for numbers first. Root is kept for a root-owned folder: root's own checkout, or rootless Docker, where
// the host user is root inside the container. Trade-off: a few lines run as root in the container before the
// switch (what the official PostgreSQL and Redis images do for their data folders); with STACK_UID/STACK_GID set
// the container starts as that user and nothing runs as root.
import { access, constants, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { SeedError } from './errors.ts';

export interface Identity {
  uid: number;
  gid: number;
}

/** The process calls the switch needs; tests pass a fake. */
export interface ProcessIdentity {
  current(): Identity;
  become(target: Identity): void;
  /** Resolves when the folder may be written into by the current identity; rejects with the errno error. */
  canWrite(dir: string): Promise<void>;
}

export const nodeProcess: ProcessIdentity = {
  current: () => ({ uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 }),
  become({ uid, gid }) {
    // Groups first: once the uid is not root any more, neither may be changed.
    process.setgroups?.([gid]);
    process.setgid?.(gid);
    process.setuid?.(uid);
  },
  canWrite: (dir) => access(dir, constants.W_OK),
};

const DENIED = new Set(['EACCES', 'EPERM', 'EROFS']);

/** Where the card folder comes from, as a person on the host names it. */
const hostFolder = (dir: string, compose: boolean) =>
  compose ? `${dir} (STACK_DIR on the host, default ./.stack)` : dir;

/**
 * The fix for a card folder the seed cannot write, when its owner is not known: what to set in .env (compose),
 * or which folder to make writable (native).
 */
export function cardFolderFix(dir: string, who: Identity, compose: boolean): string {
  return compose
    ? `Leave STACK_UID and STACK_GID empty in .env, so the seed writes as the card folder's owner, or set them ` +
        `to the owner's \`id -u\` and \`id -g\`; or make the folder (STACK_DIR on the host, default ./.stack) ` +
        `writable by uid ${who.uid} gid ${who.gid}. Then run docker compose up -d again.`
    : `Make ${dir} writable by uid ${who.uid} gid ${who.gid} (sudo chown ${who.uid}:${who.gid} ${dir}), or ` +
        `choose another folder with STACK_DIR.`;
}

/** The refusal for a card folder that exists and that `who` cannot write; says exactly what to set. */
export function notWritableMessage(
  dir: string,
  who: Identity,
  folder: Identity & { mode: number },
  code: string,
  compose: boolean,
): string {
  const mode = (folder.mode & 0o777).toString(8).padStart(4, '0');
  const what =
    `the stack card folder ${hostFolder(dir, compose)} is not writable by the seed, which runs as ` +
    `uid ${who.uid} gid ${who.gid}; the folder belongs to uid ${folder.uid} gid ${folder.gid}, mode ${mode}`;
  if (code === 'EROFS') {
    return `${what}, on a read-only file system. ${compose ? 'Mount STACK_DIR read-write' : 'Choose a writable folder with STACK_DIR'}.`;
  }
  if (!compose) return `${what}. ${cardFolderFix(dir, who, false)}`;
  if (folder.uid === who.uid && (folder.mode & 0o200) === 0) {
    return `${what}: its mode denies writing even to its owner. Make it writable (chmod u+w on the host), then run docker compose up -d again.`;
  }
  if (folder.uid === who.uid) {
    // The owner, with write permission, refused all the same: not a matter of STACK_UID.
    return (
      `${what}: its owner, yet refused. On a host with SELinux the bind mount needs a label: STACK_DIR with ` +
      `:z in docker-compose.yml's volumes (or chcon -Rt container_file_t on the folder); otherwise a parent ` +
      `folder on the host it cannot enter.`
    );
  }
  return (
    `${what}. Set STACK_UID=${folder.uid} and STACK_GID=${folder.gid} in .env (the folder owner's \`id -u\` and ` +
    `\`id -g\`), or leave both empty so the seed writes as the folder's owner; or give the folder to ` +
    `uid ${who.uid} gid ${who.gid} (sudo chown ${who.uid}:${who.gid} on the host). Then run docker compose up -d again.`
  );
}

/**
 * Before the card is written: in compose, as root, become the owner of the card's folder (root keeps a
 * root-owned one); then refuse with `stack_dir_not_writable` when the folder exists and cannot be written. A
 * folder that does not exist yet is left to the writer, which creates it.
 */
export async function prepareCardFolder(
  cardPath: string,
  options: { compose: boolean },
  say: (line: string) => void,
  proc: ProcessIdentity = nodeProcess,
): Promise<void> {
  const dir = dirname(resolve(cardPath));
  const folder = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!folder) return;
  const owner = { uid: folder.uid, gid: folder.gid };
  if (options.compose && proc.current().uid === 0 && owner.uid !== 0) {
    try {
      proc.become(owner);
    } catch (error) {
      throw new SeedError(
        'stack_dir_not_writable',
        `cannot switch to uid ${owner.uid} gid ${owner.gid}, the owner of the stack card folder ` +
          `${hostFolder(dir, true)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. ` +
          `Set STACK_UID=${owner.uid} and STACK_GID=${owner.gid} in .env, so the container starts as that user.`,
      );
    }
    say(`writing the stack card as uid ${owner.uid} gid ${owner.gid}, the owner of ${dir}`);
  }
  try {
    await proc.canWrite(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (!DENIED.has(code)) throw error;
    throw new SeedError(
      'stack_dir_not_writable',
      notWritableMessage(dir, proc.current(), { ...owner, mode: folder.mode }, code, options.compose),
    );
  }
}
