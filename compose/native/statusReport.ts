// What `npm run status` prints, from the launcher's lock: one line per supervised process, and whether all are up.
import type { LauncherLock, ProcessStatus } from './launcherLock.ts';
import { describeExit } from './restartPolicy.ts';

export interface StatusReport {
  lines: string[];
  /** 0 when the stack runs and every process is running, 1 otherwise. */
  code: 0 | 1;
}

export function statusReport(opts: {
  stackDir: string;
  lock: LauncherLock | undefined;
  launcherAlive: boolean;
  now: Date;
}): StatusReport {
  const { lock, stackDir, now } = opts;
  if (!lock) return { lines: [`no stack is running in ${stackDir} (no launcher lock)`], code: 1 };
  if (!opts.launcherAlive) {
    return {
      lines: [
        `no stack is running in ${stackDir}: its launcher (pid ${lock.pid}) is gone; ` +
          '`npm run stop` stops what it left behind',
      ],
      code: 1,
    };
  }
  const header = `stack in ${stackDir}: launcher pid ${lock.pid}, started ${lock.startedAt}`;
  if (!lock.processes) return { lines: [header, 'starting (processes are listed once it is up)'], code: 1 };

  const rows = [
    ['PROCESS', 'STATE', 'PID', 'RESTARTS', 'UPTIME', 'LAST EXIT'],
    ...lock.processes.map((p) => [
      p.name,
      p.state,
      String(p.pid),
      String(p.restarts),
      p.state === 'running' ? duration(now.getTime() - Date.parse(p.startedAt)) : '-',
      lastExit(p),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const table = rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  const notRunning = lock.processes.filter((p) => p.state !== 'running');
  const verdict =
    notRunning.length === 0
      ? `all ${lock.processes.length} processes running`
      : `not running: ${notRunning.map((p) => `${p.name} (${p.state}; log ${p.logFile})`).join(', ')}`;
  return { lines: [header, ...table, verdict], code: notRunning.length === 0 ? 0 : 1 };
}

function lastExit(p: ProcessStatus): string {
  if (!p.lastExit) return '-';
  return `${describeExit(p.lastExit)} at ${p.lastExit.at} after ${duration(p.lastExit.ranMs)}`;
}

/** 45s, 12m05s, 3h02m: uptimes at a glance. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
