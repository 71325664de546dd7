// `npm start`: runs the whole stack natively in the foreground (Ctrl-C stops it), or with --detach in the
// background (`npm run stop` stops it). A second start while one runs says so instead of colliding.
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { readStackCard, updateStackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { isAlive, readLock, removeLock, writeLock } from './launcherLock.ts';
import type { ManagedChild } from './managedChild.ts';
import { LaunchError, say } from './output.ts';
import { stackPaths } from './paths.ts';
import { loadSettings, SettingsError, type Settings } from './settings.ts';
import { startStack } from './stack.ts';
import { Supervisor } from './supervisor.ts';
import { endMaintenance, watchMaintenance } from './maintenance.ts';
import { printSummary } from './summary.ts';

const startedAt = new Date();

/** `npm start [-- --detach]`; an unknown flag stops with the usage rather than being ignored. */
function launchOptions(): { detach: boolean } {
  try {
    const { values } = parseArgs({ options: { detach: { type: 'boolean', default: false } }, strict: true });
    return { detach: values.detach };
  } catch (error) {
    throw new LaunchError('usage', `${(error as Error).message} (usage: npm start [-- --detach])`);
  }
}

async function main(): Promise<number> {
  const settings = loadSettings();
  const paths = stackPaths(settings.stackDir);
  const lock = await readLock(paths.lock);
  if (lock && isAlive(lock.pid)) {
    const card = await readStackCard(paths.card).catch(() => undefined);
    say(
      `a stack is already running (launcher pid ${lock.pid}, started ${lock.startedAt})` +
        (card ? `: MCP server ${card.mcpUrl}` : '') +
        '. Use it as it is, or stop it first with `npm run stop`.',
    );
    return 0;
  }
  await mkdir(paths.logs, { recursive: true, mode: 0o700 });
  if (launchOptions().detach) return runDetached(settings);
  return runForeground(settings);
}

async function runForeground(settings: Settings): Promise<number> {
  const paths = stackPaths(settings.stackDir);
  const lockBase = { pid: process.pid, startedAt: startedAt.toISOString() };
  await writeLock(paths.lock, { ...lockBase, children: [] });
  const children: ManagedChild[] = [];
  let supervisor: Supervisor | undefined = undefined; // set once the stack is up
  let stopping: Promise<void> | undefined;
  const stopAll = (reason: string) => {
    stopping ??= (async () => {
      const running = supervisor ? supervisor.running() : children.filter((c) => c.running);
      say(`${reason}: stopping ${running.map((c) => c.name).join(', ') || 'nothing'} …`);
      // The supervisor first, so that nothing it supervises restarts while the stack goes down.
      await supervisor?.stop();
      for (const child of [...children].reverse()) await child.stop();
      const processes = supervisor
        ?.statuses()
        .map((p) => (p.state === 'gave up' ? p : { ...p, state: 'stopped' as const }));
      await updateStackCard(paths.card, (card) => ({
        ...card,
        status: 'stopped',
        ...(processes && { processes }),
      })).catch(() => undefined);
      await removeLock(paths.lock);
      say('stopped');
    })();
    return stopping;
  };
  process.on('SIGINT', () => void stopAll('SIGINT'));
  process.on('SIGTERM', () => void stopAll('SIGTERM'));
  process.on('SIGHUP', () => undefined); // a detached launcher outlives the terminal that started it

  let stack;
  try {
    say(`starting the native stack (state in ${settings.stackDir}, cache in ${settings.cacheDir})`);
    stack = await startStack(settings, startedAt, children);
  } catch (error) {
    if (stopping) {
      await stopping;
      return 130;
    }
    await stopAll('start-up failed');
    throw error;
  }
  if (stopping) {
    await stopping;
    return 130;
  }

  // From here on a process that dies is restarted; the lock (and the card) show each one's state.
  supervisor = new Supervisor(stack.services, {
    onChange: async (processes) => {
      await writeLock(paths.lock, {
        ...lockBase,
        children: processes.map((p) => ({ name: p.name, pid: p.pid })),
        processes,
      });
      await updateStackCard(paths.card, (card) => ({ ...card, processes }));
    },
  });
  const signalled = new Promise<undefined>((resolve) => {
    process.once('SIGINT', () => resolve(undefined));
    process.once('SIGTERM', () => resolve(undefined));
  });
  supervisor.start();
  // `npm run backup` holds Keycloak stopped while it copies the H2 database (maintenance.ts).
  await endMaintenance(settings.stackDir); // a request left by an earlier stack is void
  const stopWatching = watchMaintenance(settings.stackDir, supervisor, say);
  process.once('exit', stopWatching);
  printSummary(stack.card, paths.card, stack.timings, paths.secrets);
  say('the stack is running; Ctrl-C (or `npm run stop`) stops it; `npm run status` shows its processes');

  const gaveUp = await Promise.race([supervisor.gaveUp, signalled]);
  if (gaveUp && !stopping) {
    say(
      `giving up on ${gaveUp.name}: ${gaveUp.reason}; its last exit: ${gaveUp.lastExit}. ` +
        `Read ${gaveUp.logFile} for why; its last lines:`,
    );
    for (const line of gaveUp.tail) say(`  | ${line}`);
    await stopAll(`${gaveUp.name} gave up`);
    return 1;
  }
  await stopping;
  return 0;
}

/** Starts a foreground launcher in its own session and relays its progress until the stack is up. */
async function runDetached(settings: Settings): Promise<number> {
  const paths = stackPaths(settings.stackDir);
  const logFile = join(paths.logs, 'launcher.log');
  const fd = openSync(logFile, 'w', 0o600);
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    detached: true,
    stdio: ['ignore', fd, fd],
    cwd: process.cwd(),
    env: process.env,
  });
  closeSync(fd);
  child.unref();
  let exitCode: number | undefined;
  child.once('exit', (code) => (exitCode = code ?? 1));

  const log = await open(logFile, 'r');
  let offset = 0;
  const relay = async () => {
    const { bytesRead, buffer } = await log.read({ buffer: Buffer.alloc(64 * 1024), position: offset });
    offset += bytesRead;
    if (bytesRead > 0) process.stdout.write(buffer.subarray(0, bytesRead));
    return bytesRead;
  };
  try {
    for (;;) {
      while ((await relay()) > 0);
      if (exitCode !== undefined) return exitCode === 0 ? 1 : exitCode;
      const card = await readStackCard(paths.card).catch(() => undefined);
      if (card?.status === 'ready' && card.launcherPid === child.pid) {
        await sleep(300);
        while ((await relay()) > 0);
        say(
          `running in the background (launcher pid ${child.pid}, log ${logFile}); \`npm run stop\` stops it`,
        );
        return 0;
      }
      await sleep(300);
    }
  } finally {
    await log.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof LaunchError || error instanceof SettingsError) {
      console.error(`[stack] error (${error.code}): ${error.message}`);
      for (const line of error instanceof LaunchError ? error.details : [])
        console.error(`[stack]   | ${line}`);
      process.exit(error instanceof SettingsError ? 2 : 1);
    }
    console.error('[stack] unexpected error:', error);
    process.exit(1);
  },
);
