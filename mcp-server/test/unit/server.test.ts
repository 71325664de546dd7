// startServer (what main.ts runs): listening, draining on stop, and the multiplexing transport's
// cancellation when an HTTP client goes away.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { VerifiedToken } from '../../src/auth/verifiedToken.ts';
import { loadConfig } from '../../src/config.ts';
import { authInfoFor } from '../../src/mcp/caller.ts';
import { MultiplexTransport } from '../../src/mcp/multiplexTransport.ts';
import { startServer } from '../../src/server.ts';
import { MemoryStore, memoryLogger } from './support/fakes.ts';

const caller: VerifiedToken = {
  subject: 'user-1',
  username: 'alice',
  clientId: 'c',
  scopes: ['mcp:tools'],
  roles: [],
  audiences: ['http://localhost:3000/mcp'],
  expiresAt: Math.floor(Date.now() / 1000) + 60,
  claims: {},
};

describe('startServer', () => {
  it('serves, answers /readyz 503 "draining" once stopping, then closes the listener', async () => {
    const store = new MemoryStore();
    const running = await startServer({
      config: loadConfig({ MCP_PORT: '0', MCP_METRICS_PORT: '0', OIDC_JWKS_URL: 'http://127.0.0.1:9/certs' }),
      logger: memoryLogger().logger,
      overrides: {
        store,
        verifier: Object.assign(async () => caller, { checkKeys: async () => {} }),
      },
    });
    const base = `http://127.0.0.1:${running.port}`;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    running.app.drain();
    const draining = await fetch(`${base}/readyz`, { headers: { connection: 'close' } });
    assert.equal(draining.status, 503);
    assert.equal(((await draining.json()) as { status: string }).status, 'draining');
    await running.stop();
    await assert.rejects(fetch(`${base}/healthz`));
  });
});

describe('/metrics on a listener of its own (MCP_METRICS_PORT)', () => {
  it('is served there, not on the MCP listener, and closed with the server', async () => {
    const running = await startServer({
      config: loadConfig({ MCP_PORT: '0', MCP_METRICS_PORT: '0', OIDC_JWKS_URL: 'http://127.0.0.1:9/certs' }),
      logger: memoryLogger().logger,
      overrides: {
        store: new MemoryStore(),
        verifier: Object.assign(async () => caller, { checkKeys: async () => {} }),
      },
    });
    const metricsPort = running.metricsPort;
    assert.ok(metricsPort, 'a metrics port');
    try {
      const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      assert.equal(scraped.status, 200);
      assert.match(await scraped.text(), /mcp_auth_outcomes_total/);
      assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/mcp`)).status, 404);
      assert.equal((await fetch(`http://127.0.0.1:${running.port}/metrics`)).status, 404);
    } finally {
      await running.stop();
    }
    await assert.rejects(fetch(`http://127.0.0.1:${metricsPort}/metrics`));
  });
});

describe('graceful stop', () => {
  it('a call in flight when the stop begins is answered, its keep-alive socket closed, and stop() returns without waiting out the grace', async () => {
    const store = new MemoryStore();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const admit = store.admit.bind(store);
    let entered!: () => void;
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    store.admit = async (subject, countCall) => {
      entered();
      await held;
      return admit(subject, countCall);
    };
    const running = await startServer({
      // A grace far longer than any test: stop() must not need it.
      config: loadConfig({
        MCP_PORT: '0',
        MCP_METRICS_PORT: '0', // beside a running stack, whose server holds the default 9464
        OIDC_JWKS_URL: 'http://127.0.0.1:9/certs',
        MCP_SHUTDOWN_GRACE_SECONDS: '600',
        MCP_RESOURCE_URL: 'http://localhost:3000/mcp', // the caller's audience
      }),
      logger: memoryLogger().logger,
      overrides: { store, verifier: Object.assign(async () => caller, { checkKeys: async () => {} }) },
    });
    const answer = fetch(`http://127.0.0.1:${running.port}/mcp`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer x',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'whoami', arguments: {} },
      }),
    });
    await inFlight;
    const stopped = running.stop();
    release();
    const res = await answer;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('connection'), 'close');
    await Promise.race([
      stopped,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('stop() is waiting out the grace period')), 10_000).unref(),
      ),
    ]);
  });
});

describe('MultiplexTransport', () => {
  it('an aborted request is cancelled in the server (notifications/cancelled) and its answer dropped', async () => {
    const server = new McpServer({ name: 't', version: '0' });
    let aborted = false;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    server.registerTool('slow', { description: 'waits for cancellation' }, async (extra) => {
      started();
      await new Promise<void>((resolve) =>
        extra.signal.addEventListener('abort', () => ((aborted = true), resolve())),
      );
      return { content: [] };
    });
    const transport = new MultiplexTransport();
    await server.connect(transport);
    let answered = false;
    const pending = transport.request(
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: {} } },
      authInfoFor(caller, 1),
    );
    void pending.answer.then(() => (answered = true));
    await running;
    pending.cancel();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(aborted, true, 'the tool saw the cancellation');
    assert.equal(answered, false, 'nobody waits for the answer any more');
    await server.close();
  });

  it('requests with the same client id are answered separately, each under its own id', async () => {
    const server = new McpServer({ name: 't', version: '0' });
    server.registerTool('echo', { description: 'echo' }, async (extra) => ({
      content: [
        { type: 'text', text: (extra.authInfo?.extra as { caller: { subject: string } }).caller.subject },
      ],
    }));
    const transport = new MultiplexTransport();
    await server.connect(transport);
    const call = (subject: string) =>
      transport.request(
        { jsonrpc: '2.0', id: 'same', method: 'tools/call', params: { name: 'echo', arguments: {} } },
        authInfoFor({ ...caller, subject }, null),
      ).answer;
    const [a, b] = await Promise.all([call('alice'), call('bob')]);
    assert.equal(a.id, 'same');
    assert.equal(b.id, 'same');
    const text = (answer: typeof a) => (answer.result as { content: { text: string }[] }).content[0]?.text;
    assert.deepEqual([text(a), text(b)], ['alice', 'bob']);
    await server.close();
  });
});

describe('a request body that never finishes (MCP_BODY_TIMEOUT_SECONDS)', () => {
  it('is answered 408 and its socket closed, instead of holding the connection', async () => {
    const running = await startServer({
      config: loadConfig({
        MCP_PORT: '0',
        MCP_METRICS_PORT: '0',
        MCP_BODY_TIMEOUT_SECONDS: '1',
        MCP_RESOURCE_URL: 'http://localhost:3000/mcp', // the caller's audience
        OIDC_JWKS_URL: 'http://127.0.0.1:9/certs',
      }),
      logger: memoryLogger().logger,
      overrides: {
        store: new MemoryStore(),
        verifier: Object.assign(async () => caller, { checkKeys: async () => {} }),
      },
    });
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect({ port: running.port, host: '127.0.0.1' });
        let received = '';
        // Bounded: a server that held the socket would fail here, not hang the suite.
        const bound = setTimeout(() => {
          socket.destroy();
          reject(new Error(`socket still open after 10 s; got ${JSON.stringify(received)}`));
        }, 10_000);
        socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
        socket.on('close', () => {
          clearTimeout(bound);
          resolve(received);
        });
        socket.on('error', () => {});
        socket.write(
          'POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
            'Accept: application/json, text/event-stream\r\n' +
            'Content-Length: 1000\r\nAuthorization: Bearer x\r\n\r\n{"jsonrpc":',
        );
      });
      assert.match(answer, /^HTTP\/1\.1 408/);
    } finally {
      await running.stop();
    }
  });
});
