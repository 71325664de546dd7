// The Valkey-backed UsageStore. Key layout: SCHEMA.md next to this file.
import { Redis } from 'iovalkey';
import type { Logger } from 'pino';
import {
  StoreUnavailableError,
  type Admission,
  type RateLimitPolicy,
  type UsageStore,
} from './usageStore.ts';

export interface ValkeyStore extends UsageStore {
  /** First connection; rejects if Valkey is not reachable now (the client keeps retrying in the background). */
  connect(): Promise<void>;
}

export const usageKey = (subject: string) => `mcp:usage:${subject}`;
export const rateLimitKey = (subject: string) => `mcp:ratelimit:${subject}`;
// A gateway upstream's own window and count (names are [a-z0-9-], so the prefix cannot collide with a sub).
export const upstreamUsageKey = (upstream: string, subject: string) =>
  `mcp:upstream:${upstream}:usage:${subject}`;
export const upstreamRateLimitKey = (upstream: string, subject: string) =>
  `mcp:upstream:${upstream}:ratelimit:${subject}`;

// Fixed window per subject, started by the subject's first request (the key's TTL is the window), shared by
// every replica. Trade-off: a fixed window lets a client spend up to 2× the limit across a window boundary;
// in exchange it costs one INCR, needs no clock agreement between replicas, and its `remaining`/`reset` are
// exact for the RateLimit headers. Refused requests are not counted as tool calls.
// KEYS[1] rate-limit key, KEYS[2] usage key; ARGV[1] limit (0 = off), ARGV[2] window ms, ARGV[3] count 0/1.
// Returns {allowed 0/1, used, ttl ms, count or -1}.
const ADMIT_SCRIPT = `
local limit = tonumber(ARGV[1])
local used = 0
local ttl = 0
if limit > 0 then
  used = redis.call('INCR', KEYS[1])
  ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    ttl = tonumber(ARGV[2])
  end
  if used > limit then return {0, used, ttl, -1} end
end
local count = -1
if ARGV[3] == '1' then count = redis.call('INCR', KEYS[2]) end
return {1, used, ttl, count}
`;

type AdmitReply = [number, number, number, number];

export function createValkeyStore(options: {
  url: string;
  logger: Logger;
  rateLimit: RateLimitPolicy;
  /**
   * Told whenever Valkey's availability changes as this client sees it: a command answered or failed, the
   * connection became ready or closed (mcp_valkey_up). Called on changes only, never on the hot path otherwise.
   */
  onAvailability?: (up: boolean) => void;
}): ValkeyStore {
  const log = options.logger.child({ component: 'valkey' });
  const client = new Redis(options.url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    // Commands issued in the same event-loop tick go out in one write: at thousands of requests per second
    // this turns thousands of small writes into a few hundred.
    enableAutoPipelining: true,
    // Fail fast while Valkey is down instead of queueing tool calls behind reconnects: a caller gets an
    // error within milliseconds and /readyz goes red, rather than requests piling up in memory.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // A lost connection already fails at once (no offline queue); this bounds a live but slow answer. 1 s was
    // too tight: with a Keycloak node restarting beside it on 2 cores, a starved event loop fired the timer
    // before reading an answer already there, and one tool call in thousands failed closed (compose drills).
    commandTimeout: 2_500,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    // disconnect() arms a timer to destroy a socket that will not close; 2 s by default, which holds a
    // stopping process (or test run) open for nothing when the socket is already gone.
    disconnectTimeout: 300,
  });
  // EVALSHA with a transparent EVAL fallback the first time (or after SCRIPT FLUSH / a Valkey restart).
  client.defineCommand('mcpAdmit', { numberOfKeys: 2, lua: ADMIT_SCRIPT });
  const admitCommand = (
    client as unknown as {
      mcpAdmit(k1: string, k2: string, ...args: string[]): Promise<AdmitReply>;
    }
  ).mcpAdmit.bind(client);

  // Availability as this client sees it, reported on change: a connection that closes says so at once, without
  // waiting for a request to fail; every command's outcome confirms or corrects it.
  let available: boolean | undefined;
  const availability = (up: boolean) => {
    if (up === available) return;
    available = up;
    options.onAvailability?.(up);
  };

  // Without an 'error' listener an unreachable Valkey would crash the process. Log once per outage, not on
  // every reconnect attempt.
  let down = false;
  client.on('error', (err: Error) => {
    availability(false);
    if (down) return;
    down = true;
    log.warn({ reason: err.message }, 'Valkey unavailable; retrying in the background');
  });
  client.on('ready', () => {
    if (down) log.info('Valkey reachable again');
    down = false;
    availability(true);
  });
  client.on('close', () => availability(false));

  async function run<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      const result = await command();
      availability(true);
      return result;
    } catch (cause) {
      availability(false);
      throw new StoreUnavailableError(`Valkey ${what} failed: ${(cause as Error).message}`, { cause });
    }
  }

  const { limit, windowSeconds } = options.rateLimit;
  const windowMs = String(windowSeconds * 1000);
  const limitArg = String(limit);

  return {
    async connect() {
      await run('connect', () => client.connect());
    },
    async admit(subject, countCall, upstream): Promise<Admission> {
      // On every request: no closure through run(), one await.
      let reply: AdmitReply;
      try {
        reply = await admitCommand(
          upstream === undefined ? rateLimitKey(subject) : upstreamRateLimitKey(upstream, subject),
          upstream === undefined ? usageKey(subject) : upstreamUsageKey(upstream, subject),
          limitArg,
          windowMs,
          countCall ? '1' : '0',
        );
      } catch (cause) {
        availability(false);
        throw new StoreUnavailableError(`Valkey admit failed: ${(cause as Error).message}`, { cause });
      }
      availability(true);
      const [allowed, used, ttl, count] = reply;
      return {
        allowed: allowed === 1,
        limit,
        windowSeconds,
        remaining: limit > 0 ? Math.max(0, limit - used) : 0,
        resetSeconds: limit > 0 ? Math.max(1, Math.ceil(ttl / 1000)) : 0,
        count: count >= 0 ? count : null,
      };
    },
    getUsage: (subject) => run('GET', async () => Number((await client.get(usageKey(subject))) ?? 0)),
    resetUsage: (subject) => run('GETDEL', async () => Number((await client.getdel(usageKey(subject))) ?? 0)),
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
