// Peer (2), the SDK's naive stateless pattern (its README's "stateless Streamable HTTP" example): a new
// McpServer and StreamableHTTPServerTransport for every request, the bearer token verified with jose against
// the same JWKS (issuer, audience, RS256, expiry; then the mcp:tools scope), no token cache, counts in process
// memory. Koa instead of the example's Express (same node req/res handed to the transport).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import Koa from 'koa';
import { z } from 'zod';
import { quietAborts, readJson, reportToBench } from '../report.ts';

const port = Number(process.env.PEER_PORT);
const jwks = createRemoteJWKSet(new URL(process.env.OIDC_JWKS_URL as string));
const issuer = process.env.OIDC_ISSUER as string;
const audience = process.env.MCP_RESOURCE_URL as string;
const counts = new Map<string, number>();

function buildServer(subject: string): McpServer {
  const server = new McpServer({ name: 'sdk-stateless-peer', version: '0.0.0' });
  server.registerTool(
    'usage',
    {
      title: 'My usage',
      description: 'Counts this call and returns how many tool calls you have made so far.',
      outputSchema: { subject: z.string(), count: z.number().int() },
    },
    async () => {
      const count = (counts.get(subject) ?? 0) + 1;
      counts.set(subject, count);
      const structuredContent = { subject, count };
      return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent };
    },
  );
  return server;
}

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.method !== 'POST' || ctx.path !== '/mcp') {
    ctx.status = 404;
    return;
  }
  const token = /^Bearer (.+)$/.exec(ctx.get('authorization'))?.[1];
  let payload: JWTPayload;
  try {
    if (!token) throw new Error('no token');
    ({ payload } = await jwtVerify(token, jwks, { issuer, audience, algorithms: ['RS256'] }));
  } catch {
    ctx.status = 401;
    return;
  }
  if (typeof payload.scope !== 'string' || !payload.scope.split(' ').includes('mcp:tools')) {
    ctx.status = 403;
    return;
  }
  const body = await readJson(ctx.req);
  const server = buildServer(payload.sub as string);
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  ctx.respond = false;
  ctx.res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(ctx.req, ctx.res, body);
});
app.on('error', quietAborts);
app.listen(port, '127.0.0.1', () => reportToBench(port));
