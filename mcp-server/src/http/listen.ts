// Listening on a host and port, for every HTTP listener of the process (the MCP app, the metrics listener).
import type { Server } from 'node:http';

/** Resolves with the bound port (the one the OS chose for port 0); rejects with the listen error. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** `host` as it goes in a URL: IPv6 addresses in brackets. */
export const urlHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);
