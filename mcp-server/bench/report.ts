// What every Node process the bench starts (bench/server.ts and the Node peers) tells it over IPC: that it
// is listening, and on request its process.memoryUsage() and the GC pauses since the last request (where
// tail latency goes when it is not the machine).
import Koa from 'koa';
import { PerformanceObserver } from 'node:perf_hooks';

export function reportToBench(port: number): void {
  process.send?.({ ready: true, port });
  let gcPauses: number[] = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcPauses.push(entry.duration);
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (message) => {
    if (message !== 'memory') return;
    const pauses = gcPauses.sort((a, b) => a - b);
    gcPauses = [];
    process.send?.({
      memory: process.memoryUsage(),
      gc: {
        count: pauses.length,
        totalMs: pauses.reduce((a, b) => a + b, 0),
        maxMs: pauses.at(-1) ?? 0,
        p99Ms: pauses[Math.floor(pauses.length * 0.99)] ?? 0,
      },
    });
  });
}

/** The request body as JSON (the peers read it as Koa has no body parser of its own). */
export async function readJson(req: AsyncIterable<Buffer>): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** Koa's error listener for the peers: a request aborted when autocannon stops a round is not news. */
export function quietAborts(error: Error & { code?: string }): void {
  if (error.message === 'aborted' || error.code === 'ECONNRESET') return;
  console.error(error);
}

/**
 * A bench peer on PEER_PORT: POST /mcp reads and parses the body (any JSON-RPC server must), echoes the id and
 * answers a tools/call result of our shape around `structuredContent()`; anything else is 404.
 */
export function servePeer(
  structuredContent: () => Record<string, unknown> | Promise<Record<string, unknown>>,
) {
  const port = Number(process.env.PEER_PORT);
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.method !== 'POST' || ctx.path !== '/mcp') {
      ctx.status = 404;
      return;
    }
    const message = (await readJson(ctx.req)) as { id?: number | string };
    const content = await structuredContent();
    ctx.body = {
      jsonrpc: '2.0',
      id: message.id ?? null,
      result: { content: [{ type: 'text', text: JSON.stringify(content) }], structuredContent: content },
    };
  });
  app.on('error', quietAborts);
  app.listen(port, '127.0.0.1', () => reportToBench(port));
}
