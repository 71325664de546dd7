// The Valkey-backed UsageStore. Key layout: SCHEMA.md next to this file.
import { Redis } from 'iovalkey';
import type { Logger } from 'pino';
import { StoreUnavailableError, type UsageStore } from './usageStore.ts';

export interface ValkeyStore extends UsageStore {
  /** First connection; rejects if Valkey is not reachable now (the client keeps retrying in the background). */
  connect(): Promise<void>;
}

export const usageKey = (subject: string) => `mcp:usage:${subject}`;

export function createValkeyStore(options: { url: string; logger: Logger }): ValkeyStore {
  const log = options.logger.child({ component: 'valkey' });
  const client = new Redis(options.url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    // Fail fast while Valkey is down instead of queueing tool calls behind reconnects: a caller gets an
    // error within milliseconds and /readyz goes red, rather than requests piling up in memory.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    // disconnect() arms a timer to destroy a socket that will not close; 2 s by default, which holds a
    // stopping process (or test run) open for nothing when the socket is already gone.
    disconnectTimeout: 300,
  });

  // Without an 'error' listener an unreachable Valkey would crash the process. Log once per outage, not on
  // every reconnect attempt.
  let down = false;
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log.warn({ reason: err.message }, 'Valkey unavailable; retrying in the background');
  });
  client.on('ready', () => {
    if (down) log.info('Valkey reachable again');
    down = false;
  });

  async function run<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (cause) {
      throw new StoreUnavailableError(`Valkey ${what} failed: ${(cause as Error).message}`, { cause });
    }
  }

  return {
    async connect() {
      await run('connect', () => client.connect());
    },
    incrementUsage: (subject) => run('INCR', () => client.incr(usageKey(subject))),
    getUsage: (subject) => run('GET', async () => Number((await client.get(usageKey(subject))) ?? 0)),
    async ping() {
      await run('PING', () => client.ping());
    },
    async close() {
      // QUIT lets pending replies arrive; disconnect() is the fallback when the connection is already gone.
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}
