// /metrics on a listener of its own (MCP_METRICS_PORT), so Prometheus scrapes a private address while /mcp
// faces clients. One route: plain node:http, no Koa.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { listen } from './listen.ts';

export interface MetricsServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(
  registry: Registry,
  listener: { host: string; port: number },
): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n'),
      );
      return;
    }
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: 'not_found', error_description: 'only GET /metrics is served here' }));
  });
  const port = await listen(server, listener.port, listener.host);
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
