// One stack per stack dir: the lock names the launcher's pid and its children, so `npm run stop` can find them
// even when the launcher itself was killed. While the stack runs it also holds each supervised process's state
// (supervisor.ts), which `npm run status` reads.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';

/** 'stopped' only in the stack card of a stack that has stopped: a lock exists only while the stack runs. */
/** 'held': stopped on purpose for a maintenance task (`npm run backup`), started again when it is done. */
export type ProcessState = 'running' | 'restarting' | 'gave up' | 'stopped' | 'held';

export interface LastExit {
  code: number | null;
  signal: string | null;
  at: string;
  /** How long that process had run. */
  ranMs: number;
}

export interface ProcessStatus {
  name: string;
  state: ProcessState;
  /** The current process (during a restart: the one being started, or the one that died). */
  pid: number;
  restarts: number;
  /** When the current process was started. */
  startedAt: string;
  lastExit?: LastExit;
  logFile: string;
}

export interface LauncherLock {
  pid: number;
  startedAt: string;
  children: { name: string; pid: number }[];
  /** Absent until the stack is up and supervised. */
  processes?: ProcessStatus[];
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

let writes = 0;

/** Atomic (temp file, then rename): `npm run status` and `npm run stop` read it while the launcher rewrites it. */
export async function writeLock(path: string, lock: LauncherLock): Promise<void> {
  const temp = `${path}.${process.pid}.${++writes}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(lock, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export async function removeLock(path: string): Promise<void> {
  await rm(path, { force: true });
}
