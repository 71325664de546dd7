import { createServer } from 'node:net';
import { LaunchError } from './output.ts';

/** Fails with the service's name when its port is taken, so the user knows which knob to turn. */
export async function assertPortsFree(
  ports: { port: number; service: string; variable: string }[],
): Promise<void> {
  for (const { port, service, variable } of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
    });
    if (!free) {
      throw new LaunchError(
        'port_in_use',
        `port ${port} (${service}) is already in use: stop what holds it (\`ss -ltnp 'sport = :${port}'\` shows it) ` +
          `or choose another port with ${variable}=…`,
      );
    }
  }
}
