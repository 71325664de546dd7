// Can this machine's Valkey (or its Redis fallback) load a backup's data? Asked by restore before anything is
// moved into place. Why: data written by Valkey 8 is RDB format 11, and Debian bookworm's redis-server 7.0 reads
// format 10 at most; without this check the restore "succeeds" and the next `npm start` fails with a Valkey that
// exits at once. The server itself is asked (not a version table): it loads a copy of the data, listening on a
// unix socket only, and is stopped as soon as it says it is ready.
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type LoadCheck = { loaded: true } | { loaded: false; reason: string };

const READY = /Ready to accept connections/;
// Valkey and Redis log lines: "<pid>:<role> 03 Dec 2026 07:20:45.149 <level char> <text>"; '#' marks a warning.
const LOG_LINE = /^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ ([*#.-]) (.*)$/;

export async function valkeyLoads(server: string, aofDir: string, timeoutMs = 30_000): Promise<LoadCheck> {
  // In the system's temp dir: the socket path must stay under 108 bytes whatever STACK_DIR is.
  const probe = await mkdtemp(join(tmpdir(), 'mcp-stack-restore-'));
  try {
    await cp(aofDir, join(probe, 'appendonlydir'), { recursive: true });
    return await startAndWatch(server, probe, timeoutMs);
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}

function startAndWatch(server: string, dir: string, timeoutMs: number): Promise<LoadCheck> {
  // A copy: whatever the server writes at start (a new AOF increment, its manifest) stays in the probe dir.
  const args = ['--port', '0', '--unixsocket', join(dir, 'probe.sock'), '--unixsocketperm', '700'];
  args.push('--dir', dir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no');
  const child = spawn(server, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise<LoadCheck>((resolve) => {
    const warnings: string[] = [];
    let output = '';
    let settled = false;
    const settle = (result: LoadCheck) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL'); // a copy in a temp dir: nothing to save on the way out
      resolve(result);
    };
    const timer = setTimeout(
      () =>
        settle({ loaded: false, reason: `${server} did not finish loading within ${timeoutMs / 1000} s` }),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      let newline: number;
      while ((newline = output.indexOf('\n')) >= 0) {
        const line = output.slice(0, newline).trim();
        output = output.slice(newline + 1);
        if (READY.test(line)) return settle({ loaded: true });
        const parsed = LOG_LINE.exec(line);
        if (parsed?.[1] === '#') warnings.push(parsed[2] as string);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (error) =>
      settle({ loaded: false, reason: `${server} did not start: ${error.message}` }),
    );
    child.once('close', (code, signal) => {
      // The server's own first warnings say why (e.g. "Can't handle RDB format version 11").
      const why = warnings.filter((w) => !/overcommit|not listen/i.test(w)).slice(0, 2);
      settle({
        loaded: false,
        reason: `${server} exited (${signal ?? `code ${code}`}) while loading: ${why.join('; ') || 'no reason logged'}`,
      });
    });
  });
}

/** What to tell the operator beside the reason: the usual cause has a usual fix. */
export function loadFailureHint(reason: string, flavour: 'valkey' | 'redis'): string {
  if (/RDB format version/i.test(reason) && flavour === 'redis') {
    return (
      'the backup was made by a newer Valkey (or Redis 7.2+) than this machine runs: install valkey-server ' +
      '(Debian bookworm-backports), which the launcher prefers over redis-server, and restore again'
    );
  }
  return 'restore on a machine whose valkey-server is at least as new as the one that made the backup';
}
