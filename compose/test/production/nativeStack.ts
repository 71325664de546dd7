// A private native stack for the drills: its own STACK_DIR and ports (the shared download cache), started and
// stopped with the launcher's own commands, and its supervised processes found the way `npm run status` finds
// them — in the launcher's lock (`processes`, compose/native/launcherLock.ts).
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { readLock, type ProcessStatus } from '../../native/launcherLock.ts';
import { REPO_ROOT, stackPaths } from '../../native/paths.ts';
import { tailFile } from '../../native/managedChild.ts';

const run = promisify(execFile);

export type ProcessName = 'Valkey' | 'Keycloak' | 'client janitor' | 'MCP server';

/**
 * The launcher's environment for a stack in `stackDir` on ports from `base`: Keycloak base+80, management
 * base+90, MCP server base+300, its metrics base+464, Valkey base+379. No gateway upstreams (built-in tools only).
 */
export function stackEnv(stackDir: string, base: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    STACK_DIR: stackDir,
    KC_PORT: String(base + 80),
    KC_MANAGEMENT_PORT: String(base + 90),
    MCP_PORT: String(base + 300),
    MCP_METRICS_PORT: String(base + 464),
    VALKEY_PORT: String(base + 379),
    MCP_UPSTREAMS_FILE: '',
  };
}

/** `compose/native/<script>` with the stack's environment; exit code and output, never a throw. */
export async function launcher(
  script: 'start.ts' | 'stop.ts' | 'backup.ts' | 'restore.ts',
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 420_000, // Keycloak's first start on a busy machine included
): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', `compose/native/${script}`, ...args],
      { cwd: REPO_ROOT, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The supervisor's view of one process, from the lock; undefined while the lock has none (starting). */
export async function processStatus(stackDir: string, name: ProcessName): Promise<ProcessStatus | undefined> {
  const lock = await readLock(stackPaths(stackDir).lock);
  return lock?.processes?.find((p) => p.name === name);
}

/**
 * Polls `probe` every `intervalMs` until it returns a value; the value and when it was first seen. Throws after
 * `timeoutMs` naming `what`.
 */
export async function poll<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  intervalMs = 100,
): Promise<{ value: T; at: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return { value, at: Date.now() };
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(intervalMs);
  }
}

/** Waits for the supervisor to report `name` running as a process other than `oldPid`. */
export function supervisorReportsBack(
  stackDir: string,
  name: ProcessName,
  oldPid: number,
  timeoutMs: number,
): Promise<{ value: ProcessStatus; at: number }> {
  return poll(`the supervisor reporting ${name} running again`, timeoutMs, async () => {
    const status = await processStatus(stackDir, name);
    return status?.state === 'running' && status.pid !== oldPid ? status : undefined;
  });
}

/** The direct children of `pid` (from /proc): the JVM behind Keycloak's kc.sh. */
export async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid …; comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) children.push(Number(entry));
  }
  return children;
}

/** The last lines of each of the stack's logs, for a failure's post-mortem. */
export async function logTails(stackDir: string, lines = 15): Promise<string[]> {
  const logs = stackPaths(stackDir).logs;
  const names = await readdir(logs).catch(() => [] as string[]);
  const out: string[] = [];
  for (const name of names.sort()) {
    out.push(`--- ${join(logs, name)} (last ${lines} lines)`, ...(await tailFile(join(logs, name), lines)));
  }
  return out;
}
