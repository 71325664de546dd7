// Peer (1b), the floor: the ceiling (koaCeiling.ts) plus the one thing a counted, rate-limited call cannot do
// without — this server's own Valkey admit + count (src/store/valkeyStore.ts, one EVALSHA per call, the same
// Valkey and limit as `auth`). No token check, no MCP, no log. The gap between the ceiling and this floor is
// what the shared counter costs on this machine, before any of our code runs; the gap between the floor and
// `auth` is everything else.
import { pino } from 'pino';
import { createValkeyStore } from '../../src/store/valkeyStore.ts';
import { servePeer } from '../report.ts';

const store = createValkeyStore({
  url: process.env.VALKEY_URL ?? 'redis://127.0.0.1:6379',
  logger: pino({ level: 'silent' }),
  rateLimit: { limit: Number(process.env.MCP_RATE_LIMIT ?? 600), windowSeconds: 60 },
});
await store.connect();
let caller = 0;
servePeer(async () => {
  // 64 subjects in turn, as the bench's 64 users spread over `auth`'s keys.
  const subject = `bench-user-${caller++ % 64}`;
  return { subject, count: (await store.admit(subject, true)).count };
});
