// Peer (1b), the floor: the ceiling (koaCeiling.ts) plus the one thing a counted, rate-limited call cannot do
// without — this server's own Valkey admit + count (src/store/valkeyStore.ts, one EVALSHA per call, the same
// Valkey and limit as `auth`). No token check, no MCP, no log. The gap between the ceiling and this floor is
// what the shared counter costs on this machine, before any of our code runs; the gap between the floor and
// `auth` is everything else.
import Koa from 'koa';
import { pino } from 'pino';
import { createValkeyStore } from '../../src/store/valkeyStore.ts';
import { quietAborts, readJson, reportToBench } from '../report.ts';

const port = Number(process.env.PEER_PORT);
const store = createValkeyStore({
  url: process.env.VALKEY_URL ?? 'redis://127.0.0.1:6379',
  logger: pino({ level: 'silent' }),
  rateLimit: { limit: Number(process.env.MCP_RATE_LIMIT ?? 600), windowSeconds: 60 },
});
await store.connect();
let caller = 0;
const app = new Koa();
app.use(async (ctx) => {
  if (ctx.method !== 'POST' || ctx.path !== '/mcp') {
    ctx.status = 404;
    return;
  }
  const message = (await readJson(ctx.req)) as { id?: number | string };
  // 64 subjects in turn, as the bench's 64 users spread over `auth`'s keys.
  const subject = `bench-user-${caller++ % 64}`;
  const admitted = await store.admit(subject, true);
  const structuredContent = { subject, count: admitted.count };
  ctx.body = {
    jsonrpc: '2.0',
    id: message.id ?? null,
    result: { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent },
  };
});
app.on('error', quietAborts);
app.listen(port, '127.0.0.1', () => reportToBench(port));
