// `npm run status`: each supervised process of the native stack (state, pid, restarts, uptime, last exit);
// exits 0 when all are running, 1 otherwise or when no stack runs.
import { isAlive, readLock } from './launcherLock.ts';
import { stackPaths } from './paths.ts';
import { loadSettings } from './settings.ts';
import { statusReport } from './statusReport.ts';

const { stackDir } = loadSettings();
const lock = await readLock(stackPaths(stackDir).lock);
const report = statusReport({
  stackDir,
  lock,
  launcherAlive: lock !== undefined && isAlive(lock.pid),
  now: new Date(),
});
for (const line of report.lines) console.log(line);
process.exitCode = report.code;
