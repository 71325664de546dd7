// A Valkey outage stays fail-closed for callers (HTTP 200, a tool error) but is visible to monitoring: /readyz
// 503 and mcp_valkey_up 0 on /metrics — measured when scraped, so no request needs to arrive first — and both
// back to ready / 1 once Valkey answers. The store's own reports (valkeyStore.ts onAvailability) follow the
// connection, against a minimal Valkey stand-in on loopback.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { createApp } from '../../src/app.ts';
import { createAccessTokenVerifier, type AccessTokenVerifier } from '../../src/auth/verifyAccessToken.ts';
import { loadConfig } from '../../src/config.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createValkeyStore } from '../../src/store/valkeyStore.ts';
import { closedPort } from './support/closedPort.ts';
import { MemoryStore, memoryLogger } from './support/fakes.ts';
import { AUDIENCE, ISSUER, startTestIssuer, type TestIssuer } from './support/testIssuer.ts';

const MCP_HEADERS = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
const whoami = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'whoami', arguments: {} } };

/** The value of an unlabelled metric in Prometheus text, or undefined when absent. */
const metricValue = (text: string, name: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};

describe('a Valkey outage: fail-closed for callers, visible to monitoring', () => {
  let issuer: TestIssuer;
  let verifier: AccessTokenVerifier;
  let token: string;
  const configFor = (mode: 'closed' | 'open') =>
    loadConfig({
      MCP_RESOURCE_URL: AUDIENCE,
      OIDC_ISSUER: ISSUER,
      OIDC_JWKS_URL: issuer.jwksUrl,
      MCP_STORE_FAILURE_MODE: mode,
      MCP_METRICS_PORT: 'mcp', // /metrics on the app itself, for supertest
      LOG_LEVEL: 'silent',
    });

  before(async () => {
    issuer = await startTestIssuer();
    verifier = createAccessTokenVerifier({ ...configFor('closed'), audience: AUDIENCE });
    token = await issuer.sign();
  });
  after(() => issuer.close());

  const build = (mode: 'closed' | 'open', store: MemoryStore) =>
    createApp({
      config: configFor(mode),
      verifier,
      store,
      logger: memoryLogger().logger,
      metrics: createMetrics({ defaultMetrics: false }),
    });
  const scrape = async (app: ReturnType<typeof build>) =>
    metricValue((await request(app.callback()).get('/metrics').expect(200)).text, 'mcp_valkey_up');

  it('closed (the default): the call is a 200 tool error, /readyz 503, mcp_valkey_up 0; all back once Valkey is', async () => {
    const store = new MemoryStore();
    store.down = true;
    const app = build('closed', store);
    // Read before any request reached the server: the scrape measures it.
    assert.equal(await scrape(app), 0);

    const call = await request(app.callback())
      .post('/mcp')
      .set(MCP_HEADERS)
      .set('Authorization', `Bearer ${token}`)
      .send(whoami)
      .expect(200);
    assert.equal(call.body.result.isError, true);
    assert.match(call.body.result.content[0].text, /usage store is unavailable/);

    const ready = await request(app.callback()).get('/readyz').expect(503);
    assert.equal(ready.body.status, 'unavailable');
    assert.equal(ready.body.checks.valkey.ok, false);
    assert.match(
      ready.body.checks.valkey.degraded,
      /refused until Valkey is back \(MCP_STORE_FAILURE_MODE=closed\)/,
    );
    assert.equal(await scrape(app), 0);

    store.down = false;
    assert.equal(await scrape(app), 1);
    assert.equal((await request(app.callback()).get('/readyz').expect(200)).body.status, 'ok');
    await app.close();
  });

  it('open: /readyz stays 200 "degraded", and mcp_valkey_up still says 0', async () => {
    const store = new MemoryStore();
    store.down = true;
    const app = build('open', store);
    const ready = await request(app.callback()).get('/readyz').expect(200);
    assert.equal(ready.body.status, 'degraded');
    assert.equal(await scrape(app), 0);
    await app.close();
  });
});

/**
 * Just enough of Valkey for the client: INFO (its ready check) says loaded, everything else +OK / +PONG. Kills
 * every connection on `drop()`, as a Valkey that goes away does.
 */
async function fakeValkey(): Promise<{ port: number; drop(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      // One command per RESP array: *N, then N bulk strings.
      for (;;) {
        const lines = buffer.split('\r\n');
        const count = Number(lines[0]?.slice(1));
        if (!lines[0]?.startsWith('*') || lines.length < 1 + count * 2 + 1) return;
        const name = (lines[2] ?? '').toUpperCase();
        buffer = lines.slice(1 + count * 2).join('\r\n');
        if (name === 'INFO') {
          const info = '# Persistence\r\nloading:0\r\n';
          socket.write(`$${info.length}\r\n${info}\r\n`);
        } else socket.write(name === 'PING' ? '+PONG\r\n' : '+OK\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    drop() {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const until = async (what: string, check: () => boolean) => {
  const deadline = Date.now() + 3000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 3 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('createValkeyStore: onAvailability (what mcp_valkey_up follows)', () => {
  it('up once connected; down as soon as the connection goes, with no command sent', async () => {
    const valkey = await fakeValkey();
    const reports: boolean[] = [];
    const metrics = createMetrics({ defaultMetrics: false });
    const store = createValkeyStore({
      url: `redis://127.0.0.1:${valkey.port}`,
      logger: memoryLogger().logger,
      rateLimit: { limit: 0, windowSeconds: 60 },
      onAvailability: (up) => {
        reports.push(up);
        metrics.valkeyAvailability(up);
      },
    });
    try {
      await store.connect();
      await store.ping();
      assert.deepEqual(reports, [true], 'reported once, on change only');
      assert.equal((await metrics.valkeyUp.get()).values[0]?.value, 1);
      valkey.drop();
      await until('a report of the lost connection', () => reports.at(-1) === false);
      assert.equal((await metrics.valkeyUp.get()).values[0]?.value, 0);
    } finally {
      await store.close();
      await valkey.close().catch(() => {});
    }
  });

  it('never up when Valkey is not there: connect and commands report it down', async () => {
    const reports: boolean[] = [];
    const store = createValkeyStore({
      url: `redis://127.0.0.1:${await closedPort()}`,
      logger: memoryLogger().logger,
      rateLimit: { limit: 0, windowSeconds: 60 },
      onAvailability: (up) => reports.push(up),
    });
    try {
      await assert.rejects(store.connect());
      await assert.rejects(store.admit('alice', true));
      assert.deepEqual(reports, [false]);
    } finally {
      await store.close();
    }
  });
});

describe('mcp_valkey_up without a probe', () => {
  it('follows the store reports alone (0 until the first one)', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const read = async () => (await metrics.valkeyUp.get()).values[0]?.value;
    assert.equal(await read(), 0);
    metrics.valkeyAvailability(true);
    assert.equal(await read(), 1);
    metrics.valkeyAvailability(false);
    assert.equal(await read(), 0);
  });
});
