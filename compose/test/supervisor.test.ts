// Real child processes (node -e), no stack: a kill -9 is restarted, fast crashes end in giving up, and stop()
// cancels a pending restart. Short pauses through the policy; every wait is bounded.
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ProcessStatus } from '../native/launcherLock.ts';
import { ManagedChild, type ChildSpec } from '../native/managedChild.ts';
import { DEFAULT_RESTART_POLICY } from '../native/restartPolicy.ts';
import { Supervisor } from '../native/supervisor.ts';

async function spec(script: string): Promise<ChildSpec> {
  const dir = await mkdtemp(join(tmpdir(), 'supervised-'));
  return { name: 'dummy', command: process.execPath, args: ['-e', script], logFile: join(dir, 'dummy.log') };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const SERVING = 'console.log("serving"); setInterval(() => {}, 1000)';

describe('supervised processes', () => {
  it('a child killed with SIGKILL is restarted, logged and counted; its log keeps the first run', async () => {
    const childSpec = await spec(SERVING);
    const child = await ManagedChild.start(childSpec);
    const lines: string[] = [];
    const recorded: ProcessStatus[][] = [];
    const supervisor = new Supervisor(
      [{ spec: childSpec, child, ready: async () => true, readyTimeoutMs: 5_000 }],
      {
        policy: { ...DEFAULT_RESTART_POLICY, firstDelayMs: 100 },
        say: (line) => lines.push(line),
        onChange: async (processes) => void recorded.push(processes),
      },
    );
    supervisor.start();
    try {
      await until('the first run', async () =>
        (await readFile(childSpec.logFile, 'utf8')).includes('serving') ? true : undefined,
      );
      process.kill(child.pid, 'SIGKILL');
      const back = await until('the restarted child', async () =>
        supervisor.statuses().find((p) => p.state === 'running' && p.restarts === 1),
      );
      assert.notEqual(back.pid, child.pid);
      assert.ok(isAlive(back.pid));
      assert.equal(back.lastExit?.signal, 'SIGKILL');
      assert.equal(lines[0], 'dummy exited (signal SIGKILL): restarting in 0.1 s (restart 1)');
      assert.ok(
        recorded.some((p) => p[0]?.state === 'restarting'),
        'the restarting state was recorded',
      );
      assert.deepEqual(recorded.at(-1)?.[0], back);
      await until('the second run’s output', async () =>
        /serving\n[\s\S]*--- restarted by the launcher at .* ---\nserving\n/.test(
          await readFile(childSpec.logFile, 'utf8'),
        )
          ? true
          : undefined,
      );
    } finally {
      await supervisor.stop();
    }
    assert.equal(supervisor.running().length, 0);
  });

  it('repeated fast crashes end in giving up, with the reason, the last exit and the log tail', async () => {
    const childSpec = await spec('console.error("fatal: cannot open data dir"); process.exit(3)');
    const child = await ManagedChild.start(childSpec);
    const supervisor = new Supervisor([{ spec: childSpec, child, readyTimeoutMs: 0 }], {
      policy: { ...DEFAULT_RESTART_POLICY, firstDelayMs: 20, maxFastCrashes: 3 },
      say: () => undefined,
    });
    supervisor.start();
    try {
      const gaveUp = await Promise.race([
        supervisor.gaveUp,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('never gave up')), 15_000).unref(),
        ),
      ]);
      assert.equal(gaveUp.name, 'dummy');
      assert.match(gaveUp.reason, /crashed 3 times in a row, each within 30 s of its start/);
      assert.equal(gaveUp.lastExit, 'code 3');
      assert.equal(gaveUp.logFile, childSpec.logFile);
      assert.equal(gaveUp.tail.at(-1), 'fatal: cannot open data dir');
      const [status] = supervisor.statuses();
      assert.equal(status?.state, 'gave up');
      assert.equal(status?.restarts, 2);
    } finally {
      await supervisor.stop();
    }
  });

  it('stop() during the pause before a restart cancels the restart', async () => {
    const childSpec = await spec(SERVING);
    const child = await ManagedChild.start(childSpec);
    const lines: string[] = [];
    const supervisor = new Supervisor([{ spec: childSpec, child, readyTimeoutMs: 0 }], {
      // A pause far longer than the test's bound: only a cancelled restart lets stop() return in time.
      policy: { ...DEFAULT_RESTART_POLICY, firstDelayMs: 120_000 },
      say: (line) => lines.push(line),
    });
    supervisor.start();
    process.kill(child.pid, 'SIGKILL');
    await until('the restart to be scheduled', async () => (lines.length > 0 ? true : undefined));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      supervisor.stop(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('stop() waited for the restart')), 30_000);
      }),
    ]);
    clearTimeout(timer);
    const [status] = supervisor.statuses();
    assert.equal(status?.pid, child.pid, 'no new process was started');
    assert.equal(supervisor.running().length, 0);
  });
  it('a maintenance hold stops the process without restarting it until released, and counts no restart', async () => {
    const childSpec = await spec(SERVING);
    const child = await ManagedChild.start(childSpec);
    const supervisor = new Supervisor(
      [{ spec: childSpec, child, ready: async () => true, readyTimeoutMs: 5_000 }],
      { policy: { ...DEFAULT_RESTART_POLICY, firstDelayMs: 100 }, say: () => undefined },
    );
    supervisor.start();
    try {
      await supervisor.hold('dummy');
      await until('the held state', async () => supervisor.statuses().find((p) => p.state === 'held'));
      assert.ok(!isAlive(child.pid), 'the held process was stopped');
      assert.deepEqual(supervisor.held(), ['dummy']);
      await new Promise((resolve) => setTimeout(resolve, 400)); // longer than the restart backoff
      assert.equal(supervisor.statuses()[0]?.state, 'held', 'not restarted while held');
      supervisor.release('dummy');
      const back = await until('the released process running again', async () =>
        supervisor.statuses().find((p) => p.state === 'running' && p.pid !== child.pid),
      );
      assert.equal(back.restarts, 0);
      assert.deepEqual(supervisor.held(), []);
    } finally {
      await supervisor.stop();
    }
  });
});
