// The loopback redirect receiver every desktop MCP host runs (RFC 8252 §7.3): http://127.0.0.1:<port>/callback.
import { createServer, type Server } from 'node:http';

export interface LoopbackCallback {
  redirectUri: string;
  /** Resolves with the query of the next request to /callback. */
  next(): Promise<URLSearchParams>;
  close(): Promise<void>;
}

export async function startLoopbackCallback(): Promise<LoopbackCallback> {
  let waiting: ((query: URLSearchParams) => void) | undefined;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.');
    waiting?.(url.searchParams);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('loopback server has no port');
  return {
    redirectUri: `http://127.0.0.1:${address.port}/callback`,
    next: () => new Promise((resolve) => (waiting = resolve)),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
