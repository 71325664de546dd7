// Peer (1), the ceiling: plain Koa on the same Node, answering POST /mcp with a fixed JSON-RPC tools/call
// result of the same shape as ours — no authentication, no MCP SDK, no store, no logging. It reads and
// parses the body (any JSON-RPC server must) and echoes the id; everything else is what the HTTP layer alone
// costs. Not a server anyone should run.
import Koa from 'koa';
import { quietAborts, readJson, reportToBench } from '../report.ts';

const port = Number(process.env.PEER_PORT);
let count = 0;
const app = new Koa();
app.use(async (ctx) => {
  if (ctx.method !== 'POST' || ctx.path !== '/mcp') {
    ctx.status = 404;
    return;
  }
  const message = (await readJson(ctx.req)) as { id?: number | string };
  const structuredContent = { subject: 'bench-user', count: ++count };
  ctx.body = {
    jsonrpc: '2.0',
    id: message.id ?? null,
    result: { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent },
  };
});
app.on('error', quietAborts);
app.listen(port, '127.0.0.1', () => reportToBench(port));
