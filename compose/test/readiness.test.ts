import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ManagedChild } from '../native/managedChild.ts';
import { LaunchError } from '../native/output.ts';
import { waitUntilReady } from '../native/readiness.ts';

async function child(script: string): Promise<ManagedChild> {
  const dir = await mkdtemp(join(tmpdir(), 'child-'));
  return ManagedChild.start({
    name: 'fake service',
    command: process.execPath,
    args: ['-e', script],
    logFile: join(dir, 'fake.log'),
  });
}

describe('waiting for a service', () => {
  it('a service that dies is reported with its exit and log tail, without waiting for the deadline', async () => {
    const dying = await child(
      'console.log("line one"); console.error("fatal: cannot bind"); process.exit(3)',
    );
    const started = Date.now();
    await assert.rejects(
      waitUntilReady({ name: 'fake service', child: dying, check: async () => 'not yet', timeoutMs: 60_000 }),
      (error: unknown) => {
        assert.ok(error instanceof LaunchError);
        assert.equal(error.code, 'service_exited');
        assert.match(error.message, /fake service exited with code 3 before it was ready/);
        assert.deepEqual(error.details, ['line one', 'fatal: cannot bind']);
        return true;
      },
    );
    assert.ok(Date.now() - started < 30_000, 'did not wait for the deadline');
  });

  it('a service that never gets ready ends at the deadline with the last reason', async () => {
    const stuck = await child('console.log("booting"); setInterval(() => {}, 1000)');
    try {
      await assert.rejects(
        waitUntilReady({ name: 'stuck', child: stuck, check: async () => 'HTTP 503', timeoutMs: 600 }),
        (error: unknown) => {
          assert.ok(error instanceof LaunchError);
          assert.equal(error.code, 'service_timeout');
          assert.match(error.message, /stuck was not ready after .* \(HTTP 503\)/);
          assert.deepEqual(error.details, ['booting']);
          return true;
        },
      );
    } finally {
      await stuck.stop();
    }
    assert.equal(stuck.running, false);
  });

  it('stop escalates to SIGKILL for a child that ignores SIGTERM', async () => {
    const stubborn = await child(
      'process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)',
    );
    // Until the handler is installed ("up"), not a fixed pause: a loaded machine starts node slower than that.
    for (let waited = 0; !(await stubborn.tail(5)).includes('up'); waited += 50) {
      assert.ok(waited < 10_000, 'the child never started');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await stubborn.stop(500);
    assert.equal(stubborn.exitInfo?.signal, 'SIGKILL');
  });
});

describe('valkeyPing (the Valkey readiness check)', () => {
  it('not listening: says so; a server that wants AUTH: passes with the password, names the refusal without', async () => {
    const { valkeyPing } = await import('../native/readiness.ts');
    const { createServer } = await import('node:net');
    // A few lines of RESP: enough of Valkey's side for AUTH and PING.
    const server = createServer((socket) => {
      let authed = false;
      socket.on('data', (data) => {
        for (const command of data.toString().match(/\r\n(AUTH|PING)\r\n(?:\$\d+\r\n([^\r]*)\r\n)?/gi) ??
          []) {
          if (/AUTH/i.test(command)) {
            authed = command.includes('s3cret');
            socket.write(authed ? '+OK\r\n' : '-WRONGPASS invalid password\r\n');
          } else socket.write(authed ? '+PONG\r\n' : '-NOAUTH Authentication required.\r\n');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      assert.equal(await valkeyPing(port, 's3cret')(), true);
      // iovalkey reports the refused AUTH through the PING that follows it.
      assert.match(String(await valkeyPing(port, 'wrong')()), /WRONGPASS|NOAUTH/);
      assert.match(String(await valkeyPing(port)()), /NOAUTH/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const closed = await import('../../mcp-server/test/unit/support/closedPort.ts');
    assert.equal(await valkeyPing(await closed.closedPort())(), 'not listening yet');
  });
});
