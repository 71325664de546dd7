// One stack per stack dir: the lock names the launcher's pid and its children, so `npm run stop` can find them
// even when the launcher itself was killed.
import { readFile, rm, writeFile } from 'node:fs/promises';

export interface LauncherLock {
  pid: number;
  startedAt: string;
  children: { name: string; pid: number }[];
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function readLock(path: string): Promise<LauncherLock | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LauncherLock;
  } catch {
    return undefined;
  }
}

export async function writeLock(path: string, lock: LauncherLock): Promise<void> {
  await writeFile(path, `${JSON.stringify(lock, null, 2)}\n`, { mode: 0o600 });
}

export async function removeLock(path: string): Promise<void> {
  await rm(path, { force: true });
}
