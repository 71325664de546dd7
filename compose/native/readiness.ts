// Waiting with visible progress, and never forever: a dead child or a deadline ends the wait with its log tail.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ManagedChild } from './managedChild.ts';
import { LaunchError, say, seconds } from './output.ts';

/** A check answers true when ready, or a short reason why not yet. */
export type ReadinessCheck = () => Promise<true | string>;

export async function waitUntilReady(opts: {
  name: string;
  check: ReadinessCheck;
  child: ManagedChild;
  timeoutMs: number;
  intervalMs?: number;
}): Promise<void> {
  const started = Date.now();
  let lastReport = started;
  let reason = 'not started yet';
  for (;;) {
    if (!opts.child.running) {
      throw new LaunchError(
        'service_exited',
        `${opts.name} ${opts.child.describeExit()} before it was ready; last lines of ${opts.child.logFile}:`,
        await opts.child.tail(),
      );
    }
    const result = await opts.check().catch((error: Error) => error.message);
    if (result === true) return;
    reason = result;
    const elapsed = Date.now() - started;
    if (elapsed >= opts.timeoutMs) {
      throw new LaunchError(
        'service_timeout',
        `${opts.name} was not ready after ${seconds(elapsed)} (${reason}); last lines of ${opts.child.logFile}:`,
        await opts.child.tail(),
      );
    }
    if (Date.now() - lastReport >= 5000) {
      say(`  still waiting for ${opts.name} (${seconds(elapsed)}, ${reason})`);
      lastReport = Date.now();
    }
    await sleep(opts.intervalMs ?? 400);
  }
}

export function httpOk(url: string): ReadinessCheck {
  return async () => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      return response.ok ? true : `HTTP ${response.status} from ${url}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      return cause?.code === 'ECONNREFUSED' ? 'not listening yet' : (cause?.code ?? (error as Error).message);
    }
  };
}

/** RESP PING over a raw socket: no client library needed to know Valkey answers. */
export function respPing(port: number, password?: string): ReadinessCheck {
  return () =>
    new Promise((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      const done = (result: true | string) => {
        socket.destroy();
        resolve(result);
      };
      socket.setTimeout(2000, () => done('no answer to PING'));
      socket.once('error', (error: NodeJS.ErrnoException) =>
        done(error.code === 'ECONNREFUSED' ? 'not listening yet' : (error.code ?? error.message)),
      );
      // AUTH first when the server has a password; then PING. Replies may arrive in one chunk or several.
      let replies = '';
      const expected = password === undefined ? '+PONG\r\n' : '+OK\r\n+PONG\r\n';
      socket.once('connect', () =>
        socket.write(
          password === undefined
            ? 'PING\r\n'
            : `*2\r\n$4\r\nAUTH\r\n$${Buffer.byteLength(password)}\r\n${password}\r\n*1\r\n$4\r\nPING\r\n`,
        ),
      );
      socket.on('data', (data) => {
        replies += data.toString();
        if (replies.startsWith('-')) done(replies.split('\r\n')[0] ?? replies);
        else if (replies.length >= expected.length) done(replies === expected ? true : replies.trim());
      });
    });
}
