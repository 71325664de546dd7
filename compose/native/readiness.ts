// Waiting with visible progress, and never forever: a dead child or a deadline ends the wait with its log tail.
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis as Valkey } from 'iovalkey';
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

/**
 * Valkey answers an authenticated PING, asked with the Valkey client the MCP server uses (iovalkey): one
 * connection per check, no reconnect and no offline queue, so a down server is a quick "not listening yet".
 */
export function valkeyPing(port: number, password?: string): ReadinessCheck {
  return async () => {
    const client = new Valkey({
      host: '127.0.0.1',
      port,
      ...(password === undefined ? {} : { password }),
      lazyConnect: true,
      connectTimeout: 2000,
      commandTimeout: 2000,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      enableReadyCheck: false, // no INFO round trip: PING below is the check
    });
    // The socket's own error (ECONNREFUSED, …) arrives here; the rejected connect() only says "closed".
    let socketError: NodeJS.ErrnoException | undefined;
    client.on('error', (error: NodeJS.ErrnoException) => (socketError ??= error));
    try {
      await client.connect();
      const pong = await client.ping();
      return pong === 'PONG' ? true : String(pong);
    } catch (error) {
      const code = socketError?.code ?? (error as NodeJS.ErrnoException).code;
      return code === 'ECONNREFUSED' ? 'not listening yet' : (code ?? (error as Error).message);
    } finally {
      client.disconnect();
    }
  };
}
