import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { LaunchError } from '../native/output.ts';
import { assertPortsFree } from '../native/ports.ts';

describe('port check', () => {
  it('names the service and the variable when its port is taken', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      await assert.rejects(
        assertPortsFree([{ port, service: 'Keycloak HTTP', variable: 'KC_PORT' }]),
        (error: unknown) => {
          assert.ok(error instanceof LaunchError);
          assert.equal(error.code, 'port_in_use');
          assert.match(error.message, new RegExp(`port ${port} \\(Keycloak HTTP\\) is already in use`));
          assert.match(error.message, /KC_PORT=/);
          return true;
        },
      );
    } finally {
      holder.close();
    }
  });

  it('passes when every port is free', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await assertPortsFree([{ port, service: 'MCP server', variable: 'MCP_PORT' }]);
  });
});
