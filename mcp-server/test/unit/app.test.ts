// The Koa app through app.callback() (supertest): routes, bearer auth on /mcp, the MCP transport, and what
// never reaches the logs. Real verifier against a local JWKS; the store is an in-memory fake.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import request from 'supertest';
import type { Logger } from 'pino';
import { createApp } from '../../src/app.ts';
import { createAccessTokenVerifier, type AccessTokenVerifier } from '../../src/auth/verifyAccessToken.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { authInfoFor } from '../../src/mcp/caller.ts';
import { MemoryStore, memoryLogger } from './support/fakes.ts';
import {
  AUDIENCE,
  defaultClaims,
  ISSUER,
  now,
  startTestIssuer,
  type TestIssuer,
} from './support/testIssuer.ts';

const METADATA_URL = 'http://localhost:3000/.well-known/oauth-protected-resource/mcp';
const MCP_HEADERS = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
const toolsList = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const callTool = (name: string) => ({
  jsonrpc: '2.0',
  id: 2,
  method: 'tools/call',
  params: { name, arguments: {} },
});

describe('createApp', () => {
  let issuer: TestIssuer;
  let config: Config;
  let verifier: AccessTokenVerifier;
  let store: MemoryStore;
  let logs: ReturnType<typeof memoryLogger>;
  let app: ReturnType<typeof createApp>;
  let token: string;
  const sentTokens: string[] = [];

  const build = (overrides: { verifier?: AccessTokenVerifier } = {}) =>
    createApp({ config, verifier: overrides.verifier ?? verifier, store, logger: logs.logger });

  before(async () => {
    issuer = await startTestIssuer();
    config = loadConfig({
      MCP_RESOURCE_URL: AUDIENCE,
      OIDC_ISSUER: ISSUER,
      OIDC_JWKS_URL: issuer.jwksUrl,
      LOG_LEVEL: 'trace',
    });
    verifier = createAccessTokenVerifier({ ...config, audience: config.resourceUrl });
    token = await issuer.sign();
    sentTokens.push(token);
  });
  beforeEach(() => {
    store = new MemoryStore();
    logs = memoryLogger();
    app = build();
  });
  after(() => issuer.close());

  async function signed(claims: Record<string, unknown> = {}): Promise<string> {
    const t = await issuer.sign(claims);
    sentTokens.push(t);
    return t;
  }

  describe('public routes', () => {
    it('GET /healthz → 200 {status: ok}', async () => {
      const res = await request(app.callback()).get('/healthz').expect(200);
      assert.deepEqual(res.body, { status: 'ok' });
      assert.match(res.headers['x-request-id'] ?? '', /^[0-9a-f]{12}-[0-9a-z]+$/);
    });

    it('a method nobody serves (PROPFIND) → 405 with Allow, not a 5xx', async () => {
      for (const path of ['/mcp', '/healthz']) {
        const odd = await new Promise<{ status: number; allow: string; body: string }>((resolve, reject) => {
          const server = createServer(app.callback()).listen(0, '127.0.0.1', () => {
            const { port } = server.address() as AddressInfo;
            const socket = connect(port, '127.0.0.1', () =>
              socket.end(`PROPFIND ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`),
            );
            let raw = '';
            socket.on('data', (chunk: Buffer) => (raw += chunk.toString()));
            socket.on('error', reject);
            socket.on('close', () => {
              server.close();
              resolve({
                status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]),
                allow: /\r\nallow: ([^\r]*)/i.exec(raw)?.[1] ?? '',
                body: raw.slice(raw.indexOf('\r\n\r\n') + 4),
              });
            });
          });
        });
        assert.equal(odd.status, 405, odd.body);
        assert.ok(odd.allow.length > 0, 'an Allow header');
        assert.match(odd.body, /method_not_allowed/);
      }
    });

    it('request ids: unique per request, a proxy’s well-formed X-Request-Id is kept, a malformed one replaced', async () => {
      const a = await request(app.callback()).get('/healthz');
      const b = await request(app.callback()).get('/healthz');
      assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
      const kept = await request(app.callback()).get('/healthz').set('X-Request-Id', 'proxy-42.a_b');
      assert.equal(kept.headers['x-request-id'], 'proxy-42.a_b');
      const replaced = await request(app.callback()).get('/healthz').set('X-Request-Id', 'a b {"x":1}');
      assert.match(replaced.headers['x-request-id'] ?? '', /^[0-9a-f]{12}-[0-9a-z]+$/);
    });

    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      it(`GET ${path} → the RFC 9728 document, readable cross-origin`, async () => {
        const res = await request(app.callback()).get(path).expect(200);
        assert.equal(res.headers['access-control-allow-origin'], '*');
        assert.deepEqual(res.body, {
          resource: AUDIENCE,
          authorization_servers: [ISSUER],
          scopes_supported: ['mcp:tools', 'mcp:admin'],
          bearer_methods_supported: ['header'],
          resource_name: 'mcp-keycloak-stack MCP server',
        });
      });
    }

    it('answers the CORS preflight a browser sends for the SDK’s MCP-Protocol-Version header', async () => {
      const res = await request(app.callback())
        .options('/.well-known/oauth-protected-resource/mcp')
        .set('Origin', 'http://localhost:6274')
        .set('Access-Control-Request-Method', 'GET')
        .set('Access-Control-Request-Headers', 'mcp-protocol-version')
        .expect(204);
      assert.equal(res.headers['access-control-allow-origin'], '*');
      assert.match(res.headers['access-control-allow-headers'] ?? '', /mcp-protocol-version/);
    });

    it('serves the metadata at the path-inserted form of a resource URL with another path', async () => {
      const proxied = createApp({
        config: loadConfig({ MCP_RESOURCE_URL: 'https://example.com/tools/mcp', OIDC_ISSUER: ISSUER }),
        verifier,
        store,
        logger: logs.logger,
      });
      const res = await request(proxied.callback())
        .get('/.well-known/oauth-protected-resource/tools/mcp')
        .expect(200);
      assert.equal(res.body.resource, 'https://example.com/tools/mcp');
    });

    it('unknown route → JSON 404', async () => {
      const res = await request(app.callback()).get('/nope').expect(404);
      assert.equal(res.body.error, 'not_found');
    });
  });

  describe('GET /readyz', () => {
    it('200 when Valkey answers and the JWKS can be fetched', async () => {
      const res = await request(app.callback()).get('/readyz').expect(200);
      assert.deepEqual(res.body, { status: 'ok', checks: { valkey: { ok: true }, jwks: { ok: true } } });
    });

    it('503 naming the failing dependency', async () => {
      store.down = true;
      const res = await request(app.callback()).get('/readyz').expect(503);
      assert.equal(res.body.status, 'unavailable');
      assert.equal(res.body.checks.valkey.ok, false);
      assert.equal(res.body.checks.jwks.ok, true);
    });
  });

  describe('POST /mcp authentication (RFC 6750, MCP authorization spec)', () => {
    it('no token → 401 with resource_metadata and scope, no error code (RFC 6750 §3.1)', async () => {
      const res = await request(app.callback()).post('/mcp').set(MCP_HEADERS).send(toolsList).expect(401);
      assert.equal(
        res.headers['www-authenticate'],
        `Bearer resource_metadata="${METADATA_URL}", scope="mcp:tools"`,
      );
      assert.equal(res.body.error, 'unauthorized');
    });

    it('another scheme (Basic) counts as no token', async () => {
      const res = await request(app.callback())
        .post('/mcp')
        .set(MCP_HEADERS)
        .set('Authorization', 'Basic YWxpY2U6c2VjcmV0')
        .send(toolsList)
        .expect(401);
      assert.doesNotMatch(res.headers['www-authenticate'] ?? '', /error=/);
    });

    for (const [label, header] of [
      ['Bearer with nothing after it', 'Bearer'],
      ['Bearer with a non-token', 'Bearer a b c'],
      ['a non-JWT token', 'Bearer not-a-jwt'],
    ] as const) {
      it(`${label} → 401 invalid_token`, async () => {
        const res = await request(app.callback())
          .post('/mcp')
          .set(MCP_HEADERS)
          .set('Authorization', header)
          .send(toolsList)
          .expect(401);
        assert.match(
          res.headers['www-authenticate'] ?? '',
          /^Bearer resource_metadata="[^"]+", scope="mcp:tools", error="invalid_token", error_description="[^"]+"$/,
        );
        assert.equal(res.body.error, 'invalid_token');
      });
    }

    it('an expired token → 401 invalid_token saying so', async () => {
      const res = await request(app.callback())
        .post('/mcp')
        .set(MCP_HEADERS)
        .set('Authorization', `Bearer ${await signed({ iat: now() - 900, exp: now() - 600 })}`)
        .send(toolsList)
        .expect(401);
      assert.match(
        res.headers['www-authenticate'] ?? '',
        /error="invalid_token", error_description="token expired"/,
      );
      assert.deepEqual(res.body, { error: 'invalid_token', error_description: 'token expired' });
    });

    it('a token for another audience → 401 invalid_token', async () => {
      const res = await request(app.callback())
        .post('/mcp')
        .set(MCP_HEADERS)
        .set('Authorization', `Bearer ${await signed({ aud: 'account' })}`)
        .send(toolsList)
        .expect(401);
      assert.match(res.headers['www-authenticate'] ?? '', /error="invalid_token"/);
    });

    it('a valid token without mcp:tools → 403 insufficient_scope naming the scope', async () => {
      const res = await request(app.callback())
        .post('/mcp')
        .set(MCP_HEADERS)
        .set('Authorization', `Bearer ${await signed({ scope: 'openid profile' })}`)
        .send(toolsList)
        .expect(403);
      const challenge = res.headers['www-authenticate'] ?? '';
      assert.match(challenge, /scope="mcp:tools"/);
      assert.match(challenge, /error="insufficient_scope"/);
      assert.match(challenge, new RegExp(`resource_metadata="${METADATA_URL}"`));
      assert.equal(res.body.error, 'insufficient_scope');
      assert.equal(store.counts.size, 0);
    });

    /** The app with a verifier whose JWKS URL nothing answers. */
    const keysUnreachable = (logger: Logger) =>
      createApp({
        config,
        verifier: createAccessTokenVerifier({
          ...config,
          audience: config.resourceUrl,
          jwksUrl: 'http://127.0.0.1:9/certs',
        }),
        store,
        logger,
      });

    it('signing keys unavailable → 503 with Retry-After, not a 401 that would send the client to log in', async () => {
      const down = keysUnreachable(logs.logger);
      const res = await request(down.callback())
        .post('/mcp')
        .set(MCP_HEADERS)
        .set('Authorization', `Bearer ${token}`)
        .send(toolsList)
        .expect(503);
      assert.equal(res.headers['retry-after'], '5');
      assert.equal(res.headers['www-authenticate'], undefined);
    });

    it('signing keys unavailable: one warning for a burst of requests, not a stack trace each', async () => {
      const own = memoryLogger();
      const down = keysUnreachable(own.logger);
      for (let i = 0; i < 4; i += 1) {
        await request(down.callback())
          .post('/mcp')
          .set(MCP_HEADERS)
          .set('Authorization', `Bearer ${token}`)
          .send(toolsList)
          .expect(503);
      }
      const lines = own.lines.map((line) => JSON.parse(line) as { msg: string; authFailure?: string });
      const warnings = lines.filter((l) => l.msg.includes('answering 503'));
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.match(warnings[0]?.msg ?? '', /^jwks_unavailable; answering 503$/);
      // Every request keeps its own access line, with the reason.
      const refused = lines.filter((l) => l.msg === 'request' && l.authFailure === 'jwks_unavailable');
      assert.equal(refused.length, 4);
    });

    it('an unexpected failure → 500 JSON without internals', async () => {
      const broken = Object.assign(
        async () => {
          throw new Error('boom in /srv/secret/path');
        },
        { checkKeys: async () => {} },
      );
      const res = await request(build({ verifier: broken }).callback())
        .post('/mcp')
        .set(MCP_HEADERS)
        .set('Authorization', `Bearer ${token}`)
        .send(toolsList)
        .expect(500);
      assert.deepEqual(res.body, { error: 'internal_error', error_description: 'internal server error' });
      assert.ok(
        logs.lines.some((line) => line.includes('boom in /srv/secret/path')),
        'the bug is logged',
      );
    });
  });

  describe('POST /mcp transport (Streamable HTTP, stateless)', () => {
    const post = () =>
      request(app.callback()).post('/mcp').set(MCP_HEADERS).set('Authorization', `Bearer ${token}`);

    it('malformed JSON → 400 with a JSON-RPC parse error (-32700), never 5xx', async () => {
      const res = await post().send('{"jsonrpc": "2.0", "id": 1,').expect(400);
      assert.deepEqual(res.body, {
        jsonrpc: '2.0',
        error: { code: -32700, message: 'Parse error: Invalid JSON' },
        id: null,
      });
    });

    it('an empty body → 400 -32700', async () => {
      const res = await post().send('').expect(400);
      assert.equal(res.body.error.code, -32700);
    });

    it('JSON that is not JSON-RPC → 400 from the transport', async () => {
      const res = await post().send({ hello: 'world' }).expect(400);
      assert.equal(res.body.jsonrpc, '2.0');
    });

    it('a body over 1 MB → 413', async () => {
      const res = await post()
        .send({ jsonrpc: '2.0', id: 1, method: 'tools/list', pad: 'x'.repeat(1024 * 1024) })
        .expect(413);
      assert.equal(res.body.error.code, -32000);
    });

    it('a non-JSON content type → 415', async () => {
      await post().set('content-type', 'text/plain').send('hello').expect(415);
    });

    for (const method of ['get', 'delete'] as const) {
      it(`${method.toUpperCase()} /mcp → 405 with Allow: POST (no sessions in stateless mode)`, async () => {
        const agent = request(app.callback());
        const call = method === 'get' ? agent.get('/mcp') : agent.delete('/mcp');
        const res = await call.set('Authorization', `Bearer ${token}`).expect(405);
        assert.equal(res.headers.allow, 'POST');
      });
    }

    it('tools/list names whoami, usage and the admin tool reset_usage', async () => {
      const res = await post().send(toolsList).expect(200);
      const names = (res.body.result.tools as { name: string }[]).map((t) => t.name).sort();
      assert.deepEqual(names, ['reset_usage', 'usage', 'whoami']);
    });

    it('tools/call whoami → the caller from the token, as structuredContent and JSON text; counted', async () => {
      const res = await post().send(callTool('whoami')).expect(200);
      const claims = defaultClaims();
      const expected = {
        subject: claims.sub,
        username: 'alice',
        clientId: 'vscode-client',
        scopes: ['openid', 'profile', 'mcp:tools'],
        roles: [],
        expiresAt: res.body.result.structuredContent.expiresAt,
      };
      assert.deepEqual(res.body.result.structuredContent, expected);
      assert.deepEqual(JSON.parse(res.body.result.content[0].text), expected);
      assert.equal(store.counts.get(claims.sub as string), 1);
    });

    it('tools/call usage → increments per subject', async () => {
      const other = await signed({ sub: 'someone-else' });
      const usage = async (t: string) =>
        (
          await request(app.callback())
            .post('/mcp')
            .set(MCP_HEADERS)
            .set('Authorization', `Bearer ${t}`)
            .send(callTool('usage'))
        ).body.result.structuredContent;
      assert.deepEqual(await usage(token), { subject: defaultClaims().sub, count: 1 });
      assert.deepEqual(await usage(token), { subject: defaultClaims().sub, count: 2 });
      assert.deepEqual(await usage(other), { subject: 'someone-else', count: 1 });
    });

    it('Valkey down → the tool call fails as a tool error (isError), the process and HTTP stay fine', async () => {
      store.down = true;
      const res = await post().send(callTool('whoami')).expect(200);
      assert.equal(res.body.result.isError, true);
      assert.match(res.body.result.content[0].text, /usage store is unavailable/);
    });
  });

  describe('with the MCP SDK client over HTTP', () => {
    let server: Server;
    let url: URL;
    before(async () => {
      server = createServer((req, res) => app.callback()(req, res));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('initialize, tools/list, whoami, usage', async () => {
      const client = new Client({ name: 'unit-test', version: '0.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(url, {
          requestInit: { headers: { Authorization: `Bearer ${token}` } },
        }),
      );
      try {
        assert.equal(client.getServerVersion()?.name, 'mcp-keycloak-stack');
        const { tools } = await client.listTools();
        assert.ok(
          tools.every((tool) => tool.outputSchema),
          'every tool declares its output',
        );
        const whoami = await client.callTool({ name: 'whoami', arguments: {} });
        assert.equal((whoami.structuredContent as { username: string }).username, 'alice');
        const usage = await client.callTool({ name: 'usage', arguments: {} });
        assert.equal((usage.structuredContent as { count: number }).count, 2);
      } finally {
        await client.close();
      }
    });
  });

  describe('the bearer token stays at the door', () => {
    it('the AuthInfo handed to the SDK (and so to tools) carries a marker, no part of the token', async () => {
      const info = authInfoFor(await verifier(token), 1);
      assert.equal(info.token, '[verified]');
      const text = JSON.stringify(info);
      for (const part of token.split('.')) assert.ok(!text.includes(part), 'a token part in AuthInfo');
    });

    it('no tool answer echoes it', async () => {
      for (const tool of ['whoami', 'usage']) {
        const res = await request(app.callback())
          .post('/mcp')
          .set(MCP_HEADERS)
          .set('Authorization', `Bearer ${token}`)
          .send(callTool(tool))
          .expect(200);
        for (const part of token.split('.'))
          assert.ok(!res.text.includes(part), `${tool} echoes a token part`);
      }
    });
  });

  describe('logs', () => {
    it('one access line per request with the auth outcome, and never a token', async () => {
      await request(app.callback())
        .post('/mcp')
        .set(MCP_HEADERS)
        .set('Authorization', `Bearer ${token}`)
        .send(callTool('whoami'));
      const bad = await signed({ aud: 'account' });
      await request(app.callback())
        .post('/mcp')
        .set(MCP_HEADERS)
        .set('Authorization', `Bearer ${bad}`)
        .send(toolsList);
      await new Promise((resolve) => setImmediate(resolve)); // 'close' fires after supertest resolves
      const access = logs.lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === 'request');
      assert.equal(access.length, 2);
      assert.equal(access[0]?.status, 200);
      assert.equal(access[0]?.sub, defaultClaims().sub);
      assert.equal(access[1]?.status, 401);
      assert.equal(access[1]?.authFailure, 'audience_mismatch');
      for (const line of logs.lines) {
        for (const t of sentTokens) {
          assert.ok(!line.includes(t) && !line.includes(t.split('.')[2] as string), `token in log: ${line}`);
        }
      }
    });

    it('the client address: the peer’s, or X-Forwarded-For’s only with MCP_TRUST_PROXY=true', async () => {
      const ipOf = async (trustProxy: boolean) => {
        const own = memoryLogger();
        const proxied = createApp({
          config: { ...config, trustProxy },
          verifier,
          store,
          logger: own.logger,
        });
        await request(proxied.callback()).get('/healthz').set('X-Forwarded-For', '203.0.113.7');
        await new Promise((resolve) => setImmediate(resolve));
        const line = own.lines
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((l) => l.msg === 'request');
        return String(line?.ip);
      };
      assert.equal(await ipOf(true), '203.0.113.7');
      assert.match(await ipOf(false), /127\.0\.0\.1|::1/);
    });

    it('a request the client abandons before any answer is logged as aborted, not as Koa’s default 404', async () => {
      const server = createServer(app.callback());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      try {
        const closed = new Promise<void>((resolve) =>
          server.once('request', (_req, res) => res.once('close', resolve)),
        );
        const socket = connect(port, '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        // Headers and half a body; then the client goes away while the server waits for the rest.
        socket.write(
          `POST /mcp HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n` +
            `Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n` +
            `Content-Length: 100\r\n\r\n{"jsonrpc":`,
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
        socket.destroy();
        await closed;
        await new Promise((resolve) => setImmediate(resolve));
        const access = logs.lines
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .filter((l) => l.msg === 'request');
        assert.equal(access.length, 1);
        assert.equal(access[0]?.aborted, true);
        assert.equal(access[0]?.status, null);
        const metrics = await app.metrics.registry.metrics();
        assert.match(metrics, /http_request_duration_seconds_count\{[^}]*status="aborted"[^}]*\} 1/);
        assert.doesNotMatch(metrics, /status="404"/);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    });
  });
});
