// One child process of the stack: its own process group (so Ctrl-C and stop reach java behind kc.sh too),
// output in its own log file, and a stop that escalates from SIGTERM to SIGKILL instead of hanging.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export class ManagedChild {
  readonly name: string;
  readonly logFile: string;
  readonly pid: number;
  /** When it was spawned (ms since the epoch). */
  readonly startedAt = Date.now();
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  private readonly child: ChildProcess;

  private constructor(spec: ChildSpec, child: ChildProcess) {
    this.name = spec.name;
    this.logFile = spec.logFile;
    this.child = child;
    this.pid = child.pid ?? -1;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  /** `append` keeps the log of the process it replaces (a restart), with a line that marks the restart. */
  static start(spec: ChildSpec, options: { append?: boolean } = {}): Promise<ManagedChild> {
    const fd = openSync(spec.logFile, options.append ? 'a' : 'w', 0o600);
    if (options.append) {
      writeSync(fd, `\n--- restarted by the launcher at ${new Date().toISOString()} ---\n`);
    }
    try {
      const child = spawn(spec.command, spec.args, {
        cwd: spec.cwd,
        env: spec.env ?? process.env,
        stdio: ['ignore', fd, fd],
        detached: true,
      });
      return new Promise((resolve, reject) => {
        child.once('error', (error) => reject(new Error(`could not start ${spec.name}: ${error.message}`)));
        child.once('spawn', () => resolve(new ManagedChild(spec, child)));
      });
    } finally {
      closeSync(fd);
    }
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  describeExit(): string {
    const info = this.exitInfo;
    if (!info) return 'still running';
    return info.signal ? `was killed by ${info.signal}` : `exited with code ${info.code}`;
  }

  async stop(timeoutMs = 20_000): Promise<void> {
    if (!this.running) return;
    signalGroup(this.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  async tail(lines = 40): Promise<string[]> {
    return tailFile(this.logFile, lines);
  }
}

/** Kills whatever is left in a dead child's process group (java behind a killed kc.sh), so a restart finds
 * its ports free. The group only: never falls back to the bare pid, which may belong to someone else by now. */
export function killGroupLeftovers(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is empty
  }
}

export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export async function tailFile(path: string, lines: number): Promise<string[]> {
  try {
    const text = await readFile(path, 'utf8');
    return text.trimEnd().split('\n').slice(-lines);
  } catch {
    return [`(no log at ${path})`];
  }
}
