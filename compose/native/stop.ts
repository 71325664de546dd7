// `npm run stop`: stops a stack started in the background (or left behind by a killed launcher).
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, readLock, removeLock } from './launcherLock.ts';
import { signalGroup } from './managedChild.ts';
import { say } from './output.ts';
import { stackPaths } from './paths.ts';
import { loadSettings } from './settings.ts';

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
  return true;
}

const paths = stackPaths(loadSettings().stackDir);
const lock = await readLock(paths.lock);
if (!lock) {
  say('no stack is running (no launcher lock in .stack/)');
} else {
  if (isAlive(lock.pid)) {
    say(`stopping the stack (launcher pid ${lock.pid}) …`);
    process.kill(lock.pid, 'SIGTERM');
    if (!(await waitGone(lock.pid, 60_000))) {
      say('the launcher did not stop within 60s; killing it');
      process.kill(lock.pid, 'SIGKILL');
    }
  }
  // Children of a launcher that was killed outright would otherwise keep their ports.
  for (const child of lock.children.filter((c) => isAlive(c.pid))) {
    say(`stopping leftover ${child.name} (pid ${child.pid})`);
    signalGroup(child.pid, 'SIGTERM');
    if (!(await waitGone(child.pid, 20_000))) signalGroup(child.pid, 'SIGKILL');
  }
  await removeLock(paths.lock);
  say('stopped');
}
