// The gateway's node:http transport for Streamable HTTP upstreams, against a local upstream: the SDK's
// McpServer + StreamableHTTPServerTransport (stateful: session id, progress, an out-of-call logging message on
// the GET stream, DELETE) and raw answers for the edge cases (SSE with two events, JSON array, 404, 500, 202,
// 405 on GET, a hung upstream).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolResultSchema,
  isInitializeRequest,
  type JSONRPCMessage,
  type Notification,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { HttpUpstreamTransport, UpstreamHttpError } from '../../src/gateway/httpUpstreamTransport.ts';

interface Seen {
  method: string | undefined;
  headers: IncomingMessage['headers'];
  rpc: string | undefined;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let raw = '';
  for await (const chunk of req) raw += (chunk as Buffer).toString('utf8');
  return raw ? (JSON.parse(raw) as unknown) : undefined;
}

function mcpServer(): McpServer {
  const server = new McpServer(
    { name: 'unit-upstream', version: '1.0.0' },
    { capabilities: { logging: {} } },
  );
  server.registerTool('echo', { inputSchema: { message: z.string() } }, async ({ message }) => ({
    content: [{ type: 'text', text: `echo: ${message}` }],
  }));
  server.registerTool('steps', { inputSchema: { steps: z.number() } }, async ({ steps }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      if (token !== undefined)
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken: token, progress: i, total: steps },
        });
    }
    return { content: [{ type: 'text', text: `${steps} steps` }] };
  });
  server.registerTool('announce', {}, async () => {
    // Not related to the call: it goes out on the standalone GET stream.
    await server.server.sendLoggingMessage({ level: 'info', data: 'out of call' });
    return { content: [{ type: 'text', text: 'announced' }] };
  });
  return server;
}

const seen: Seen[] = [];
const transports = new Map<string, StreamableHTTPServerTransport>();
let hung: ServerResponse[] = [];

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://unit').pathname;
  const body = req.method === 'POST' ? await readJson(req) : undefined;
  const rpc = (body as { method?: string } | undefined)?.method;
  seen.push({ method: req.method, headers: req.headers, rpc });
  const message = body as { id?: unknown; method?: string } | undefined;
  if (path === '/raw') return raw(req, res, message);
  const sessionId = req.headers['mcp-session-id'];
  let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
  if (!transport && req.method === 'POST' && isInitializeRequest(body)) {
    const created = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void transports.set(id, created),
    });
    created.onclose = () => {
      if (created.sessionId) transports.delete(created.sessionId);
    };
    await mcpServer().connect(created);
    transport = created;
  }
  if (!transport) {
    res.writeHead(sessionId ? 404 : 400).end();
    return;
  }
  await transport.handleRequest(req, res, body);
}

const INIT_RESULT = {
  protocolVersion: '2025-06-18',
  capabilities: { tools: {} },
  serverInfo: { name: 'raw', version: '1' },
};

/** Edge cases: the tool name picks the answer. */
function raw(
  req: IncomingMessage,
  res: ServerResponse,
  message: { id?: unknown; method?: string } | undefined,
) {
  if (req.method === 'GET') return void res.writeHead(405).end();
  if (req.method === 'DELETE') return void res.writeHead(200).end();
  if (message?.method === 'initialize') {
    res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'raw-session' });
    return void res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: INIT_RESULT }));
  }
  if (message?.id === undefined) return void res.writeHead(202).end();
  const name = (message as { params?: { name?: string } }).params?.name;
  const id = message.id;
  switch (name) {
    case 'sse': {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // A comment, an id, a multi-line data, CRLF endings, split across writes.
      res.write(': hello\r\nid: 1\r\n');
      res.write(
        `data: {"jsonrpc":"2.0","method":"notifications/message",\r\ndata: "params":{"level":"info","data":"first"}}\r\n\r\n`,
      );
      setTimeout(() => {
        const answer = JSON.stringify({
          jsonrpc: '2.0',
          id,
          result: { content: [{ type: 'text', text: 'sse' }] },
        });
        res.write(`event: message\ndata: ${answer.slice(0, 10)}`);
        res.end(`${answer.slice(10)}\n\n`);
      }, 20);
      return;
    }
    case 'array': {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      return void res.end(
        JSON.stringify([
          { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'in array' } },
          { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'array' }] } },
        ]),
      );
    }
    case 'gone':
      return void res.writeHead(404).end('no such session');
    case 'broken':
      return void res.writeHead(500, 'Boom').end('upstream trace');
    case 'accepted':
      return void res.writeHead(202).end();
    case 'html':
      return void res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>');
    case 'redirect':
      return void res.writeHead(307, { location: 'http://elsewhere.invalid/mcp' }).end();
    case 'die': {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': started\n\n');
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    case 'hang':
      hung.push(res);
      return;
    default:
      return void res.writeHead(400).end();
  }
}

let server: Server;
let base: string;

before(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const res of hung) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function connect(
  path: string,
  options: ConstructorParameters<typeof HttpUpstreamTransport>[1] = {},
): Promise<{ client: Client; transport: HttpUpstreamTransport; notifications: Notification[] }> {
  const transport = new HttpUpstreamTransport(new URL(`${base}${path}`), options);
  const client = new Client({ name: 'unit', version: '1' }, { capabilities: {} });
  const notifications: Notification[] = [];
  client.fallbackNotificationHandler = async (n) => void notifications.push(n);
  await client.connect(transport);
  return { client, transport, notifications };
}

async function eventually<T>(check: () => T | undefined, ms = 5_000): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function text(result: unknown): string {
  return (result as { content: { text: string }[] }).content.map((c) => c.text).join('');
}

describe('HttpUpstreamTransport (node:http Streamable HTTP client for upstreams)', () => {
  it('talks to an SDK server: session id, protocol version, headers, progress, out-of-call notifications, DELETE', async () => {
    seen.length = 0;
    let credential: { header: string; value: string } | undefined = { header: 'X-Who', value: 'alice' };
    const { client, transport, notifications } = await connect('/mcp', {
      headers: { 'X-Static': 'yes' },
      credential: () => credential,
    });
    assert.ok(transport.sessionId, 'no session id from the initialize answer');
    const progress: number[] = [];
    const result = await client.request(
      { method: 'tools/call', params: { name: 'steps', arguments: { steps: 3 } } },
      CallToolResultSchema,
      { onprogress: (p) => void progress.push(p.progress) },
    );
    assert.equal(text(result), '3 steps');
    assert.deepEqual(progress, [1, 2, 3]);

    // The GET stream opened after notifications/initialized carries what belongs to no call.
    await eventually(() => seen.find((s) => s.method === 'GET'));
    const announced = await client.callTool({ name: 'announce', arguments: {} });
    assert.equal(text(announced), 'announced');
    const logged = await eventually(() => notifications.find((n) => n.method === 'notifications/message'));
    assert.equal((logged?.params as { data?: unknown } | undefined)?.data, 'out of call');

    credential = undefined;
    assert.equal(text(await client.callTool({ name: 'echo', arguments: { message: 'hi' } })), 'echo: hi');

    const initialize = seen.find((s) => s.rpc === 'initialize');
    assert.equal(initialize?.headers['mcp-session-id'], undefined);
    assert.equal(initialize?.headers['x-static'], 'yes');
    assert.equal(initialize?.headers['x-who'], 'alice');
    assert.equal(initialize?.headers.accept, 'application/json, text/event-stream');
    assert.match(String(initialize?.headers['content-type']), /^application\/json/);
    const call = seen.find((s) => s.rpc === 'tools/call');
    assert.equal(call?.headers['mcp-session-id'], transport.sessionId);
    assert.ok(call?.headers['mcp-protocol-version'], 'no mcp-protocol-version after initialize');
    const get = seen.find((s) => s.method === 'GET');
    assert.equal(get?.headers.accept, 'text/event-stream');
    assert.equal(get?.headers['mcp-session-id'], transport.sessionId);
    const last = seen.findLast((s) => s.rpc === 'tools/call');
    assert.equal(last?.headers['x-who'], undefined, 'the credential is read at each request');

    const sessionId = transport.sessionId as string;
    await transport.terminateSession();
    assert.equal(seen.at(-1)?.method, 'DELETE');
    assert.equal(seen.at(-1)?.headers['mcp-session-id'], sessionId);
    assert.equal(transports.has(sessionId), false, 'the upstream session was not ended');
    assert.equal(transport.sessionId, undefined);
    await client.close();
  });

  it('reads an SSE answer of two events (comment, id, multi-line data, CRLF, split writes) and a JSON array', async () => {
    const { client, notifications } = await connect('/raw');
    assert.equal(text(await client.callTool({ name: 'sse', arguments: {} })), 'sse');
    assert.equal(text(await client.callTool({ name: 'array', arguments: {} })), 'array');
    const data = notifications.map((n) => (n.params as { data?: unknown }).data);
    assert.deepEqual(data, ['first', 'in array']);
    await client.close();
  });

  it('turns 404, 500, a redirect and a wrong content type into errors the caller sees (404 by its code)', async () => {
    const { client } = await connect('/raw');
    await assert.rejects(client.callTool({ name: 'gone', arguments: {} }), (error) => {
      assert.ok(error instanceof UpstreamHttpError);
      assert.equal(error.code, 404);
      return true;
    });
    await assert.rejects(client.callTool({ name: 'broken', arguments: {} }), (error) => {
      assert.ok(error instanceof UpstreamHttpError);
      assert.equal(error.code, 500);
      assert.doesNotMatch(error.message, /upstream trace/);
      return true;
    });
    await assert.rejects(client.callTool({ name: 'redirect', arguments: {} }), (error) => {
      assert.ok(error instanceof UpstreamHttpError);
      assert.equal(error.code, 307);
      assert.doesNotMatch(error.message, /elsewhere/);
      return true;
    });
    await assert.rejects(client.callTool({ name: 'html', arguments: {} }), (error) => {
      assert.ok(error instanceof UpstreamHttpError);
      assert.equal(error.code, -1);
      return true;
    });
    // 202 to a request: no answer comes, the SDK's timeout ends it.
    await assert.rejects(
      client.callTool({ name: 'accepted', arguments: {} }, undefined, { timeout: 200 }),
      /timed out/i,
    );
    // 405 on GET (no standalone stream) is no error: the session goes on.
    assert.equal(text(await client.callTool({ name: 'array', arguments: {} })), 'array');
    await client.close();
  });

  it('an SSE answer cut off before its response fails that request at once', async () => {
    const { client } = await connect('/raw');
    const started = Date.now();
    await assert.rejects(client.callTool({ name: 'die', arguments: {} }), /Connection closed/);
    assert.ok(Date.now() - started < 5_000);
    await client.close();
  });

  it('close() ends a request a hung upstream holds, calls onclose, and refuses later sends', async () => {
    hung = [];
    const { client, transport } = await connect('/raw');
    let closed = false;
    const onclose = transport.onclose;
    transport.onclose = () => {
      closed = true;
      onclose?.();
    };
    const call = client.callTool({ name: 'hang', arguments: {} }, undefined, { timeout: 60_000 });
    await eventually(() => (hung.length > 0 ? true : undefined));
    const socket = hung[0]?.socket;
    await client.close();
    await assert.rejects(call, /closed/i);
    assert.ok(closed);
    await eventually(() => (socket?.destroyed ? true : undefined));
    assert.ok(socket?.destroyed, 'the hung request still holds its socket');
    await assert.rejects(
      transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' } as JSONRPCMessage),
    );
  });

  it('an idle-timed-out POST frees its socket; errors never name the URL, its userinfo or the credential', async () => {
    hung = [];
    const port = (server.address() as AddressInfo).port;
    const transport = new HttpUpstreamTransport(new URL(`http://user:s3cret@127.0.0.1:${port}/raw`), {
      credential: () => ({ header: 'x-token', value: 'tok-value' }),
      idleTimeoutMs: 100,
    });
    const errors: Error[] = [];
    transport.onerror = (error) => void errors.push(error);
    await transport.start();
    const sent = transport.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'hang', arguments: {} },
    });
    await assert.rejects(sent, /idle timeout/);
    assert.equal(
      seen.at(-1)?.headers.authorization,
      `Basic ${Buffer.from('user:s3cret').toString('base64')}`,
    );
    const refused = new HttpUpstreamTransport(new URL('http://user:s3cret@127.0.0.1:1/mcp'), {
      credential: () => ({ header: 'x-token', value: 'tok-value' }),
    });
    refused.onerror = (error) => void errors.push(error);
    await assert.rejects(refused.send({ jsonrpc: '2.0', id: 1, method: 'ping' }), /ECONNREFUSED/);
    for (const error of errors) assert.doesNotMatch(error.message, /s3cret|tok-value|127\.0\.0\.1|user/);
    await transport.close();
    await refused.close();
  });
});
