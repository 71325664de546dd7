import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LauncherLock, ProcessStatus } from '../native/launcherLock.ts';
import { duration, statusReport } from '../native/statusReport.ts';

const now = new Date('2026-01-01T12:00:00Z');
const process = (name: string, extra: Partial<ProcessStatus> = {}): ProcessStatus => ({
  name,
  state: 'running',
  pid: 100,
  restarts: 0,
  startedAt: '2026-01-01T11:58:30Z',
  logFile: `/stack/logs/${name}.log`,
  ...extra,
});
const lock = (processes?: ProcessStatus[]): LauncherLock => ({
  pid: 42,
  startedAt: '2026-01-01T11:50:00Z',
  children: [],
  ...(processes && { processes }),
});

describe('npm run status', () => {
  it('all running: one line each, exit 0', () => {
    const report = statusReport({
      stackDir: '/stack',
      lock: lock([process('Valkey'), process('Keycloak')]),
      launcherAlive: true,
      now,
    });
    assert.equal(report.code, 0);
    assert.match(report.lines[0]!, /launcher pid 42/);
    assert.match(
      report.lines.find((l) => l.startsWith('Valkey'))!,
      /^Valkey\s+running\s+100\s+0\s+1m30s\s+-$/,
    );
    assert.equal(report.lines.at(-1), 'all 2 processes running');
  });

  it('a restarting or given-up process: its state, restarts and last exit, and exit 1', () => {
    const lastExit = { code: null, signal: 'SIGKILL', at: '2026-01-01T11:59:59Z', ranMs: 5_000 };
    const report = statusReport({
      stackDir: '/stack',
      lock: lock([process('Valkey', { state: 'restarting', restarts: 2, lastExit }), process('Keycloak')]),
      launcherAlive: true,
      now,
    });
    assert.equal(report.code, 1);
    assert.match(
      report.lines.find((l) => l.startsWith('Valkey'))!,
      /restarting\s+100\s+2\s+-\s+signal SIGKILL at 2026-01-01T11:59:59Z after 5s/,
    );
    assert.match(report.lines.at(-1)!, /not running: Valkey \(restarting; log \/stack\/logs\/Valkey.log\)/);
  });

  it('no stack: says so, exit 1', () => {
    const none = statusReport({ stackDir: '/stack', lock: undefined, launcherAlive: false, now });
    assert.deepEqual(none, { lines: ['no stack is running in /stack (no launcher lock)'], code: 1 });
    const gone = statusReport({ stackDir: '/stack', lock: lock(), launcherAlive: false, now });
    assert.equal(gone.code, 1);
    assert.match(gone.lines[0]!, /launcher \(pid 42\) is gone; `npm run stop`/);
  });

  it('a stack still starting is not "all running"', () => {
    const report = statusReport({ stackDir: '/stack', lock: lock(), launcherAlive: true, now });
    assert.equal(report.code, 1);
    assert.match(report.lines.at(-1)!, /starting/);
  });

  it('durations read at a glance', () => {
    assert.equal(duration(45_400), '45s');
    assert.equal(duration(725_000), '12m05s');
    assert.equal(duration(3 * 3_600_000 + 2 * 60_000), '3h02m');
  });
});
