// Processes the gateway integration test starts and must be able to kill: third-party MCP servers (an HTTP one,
// a FastMCP one), the seed's `upstreams` subcommand, and the gateway's own stdio children found through /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { loadAdminCredentials, REPO_ROOT, stackCardPath } from '../../e2e/support/stack.ts';

export interface Spawned {
  readonly pid: number;
  output(): string;
  /** Resolves once the output matches `pattern`; rejects after `timeoutMs` or when the process exits. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  readonly exited: Promise<void>;
  /** The exit code once exited (null while running, or when a signal ended it). */
  exitCode(): number | null;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  stop(): Promise<void>;
}

export function spawnProcess(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Spawned {
  let output = '';
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    pid: child.pid as number,
    output: () => output,
    exited,
    exitCode: () => child.exitCode,
    async waitForOutput(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (gone) throw new Error(`${command} exited before printing ${pattern}:\n${output}`);
        if (Date.now() > deadline)
          throw new Error(`${command} did not print ${pattern} in ${timeoutMs} ms:\n${output}`);
        await sleep(50);
      }
    },
    kill(signal) {
      if (!gone) child.kill(signal);
    },
    async stop() {
      if (gone) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls until `url` answers HTTP at all (any status); throws after `timeoutMs` or if `process` exits. */
export async function waitForHttp(url: string, process: Spawned, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answered = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      async (r) => {
        await r.body?.cancel();
        return true;
      },
      () => false,
    );
    if (answered) return;
    if (Date.now() > deadline)
      throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${process.output()}`);
    await sleep(100);
  }
}

/**
 * `npm run seed -- upstreams --file <file> --base-url <url>`: the realm side of an upstreams file for a gateway
 * on its own port (client scopes mcp:<name> with the audience <url>/<name>, the M2M client may ask for them).
 */
export async function seedUpstreams(card: StackCard, file: string, baseUrl: string): Promise<string> {
  const admin = await loadAdminCredentials();
  const seed = spawnProcess(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO_ROOT, 'seed/src/main.ts'),
      'upstreams',
      '--file',
      file,
      '--base-url',
      baseUrl,
    ],
    {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        STACK_CARD_PATH: stackCardPath(),
        KEYCLOAK_URL: card.keycloakUrl,
        KEYCLOAK_REALM: card.realm,
        KEYCLOAK_ADMIN_USERNAME: admin.username,
        KEYCLOAK_ADMIN_PASSWORD: admin.password,
        ...(card.clients.m2m ? { SEED_M2M_CLIENT_ID: card.clients.m2m.clientId } : {}),
      },
    },
  );
  const timer = setTimeout(() => seed.kill('SIGKILL'), 120_000);
  await seed.exited;
  clearTimeout(timer);
  if (seed.exitCode() !== 0) throw new Error(`seed upstreams failed:\n${seed.output()}`);
  return seed.output();
}

/** The live child processes of `pid` (from /proc: ppid is the field after the command name). */
export function childrenOf(pid: number): { pid: number; cmdline: string }[] {
  const children: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] is the state (Z: exited, not yet reaped), fields[1] the parent pid
      if (Number(fields[1]) !== pid || fields[0] === 'Z') continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      children.push({ pid: Number(entry), cmdline });
    } catch {
      // gone between readdir and read
    }
  }
  return children;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
