// /mcp behaviour decided before the SDK runs anything: per-tool scopes and roles (403 step-up), the
// per-subject rate limit (429), Streamable HTTP header rules, Origin/CORS, and the metrics they feed.
// Real verifier against a local JWKS; the store is the in-memory fake with the Valkey script's semantics.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp, type McpApp } from '../../src/app.ts';
import { createAccessTokenVerifier, type AccessTokenVerifier } from '../../src/auth/verifyAccessToken.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createMetrics } from '../../src/metrics.ts';
import { MemoryStore, memoryLogger } from './support/fakes.ts';
import { AUDIENCE, ISSUER, startTestIssuer, type TestIssuer } from './support/testIssuer.ts';

const METADATA_URL = 'http://localhost:3000/.well-known/oauth-protected-resource/mcp';
const MCP_HEADERS = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
const call = (name: string, args: Record<string, unknown> = {}, id: number | string = 7) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});
const ADMIN = { scope: 'openid mcp:tools mcp:admin', realm_access: { roles: ['mcp-admin'] } };

describe('/mcp authorization, limits and transport rules', () => {
  let issuer: TestIssuer;
  let config: Config;
  let verifier: AccessTokenVerifier;
  let store: MemoryStore;
  let app: McpApp;

  function build(env: Record<string, string> = {}, policy = { limit: 0, windowSeconds: 60 }) {
    config = loadConfig({
      MCP_RESOURCE_URL: AUDIENCE,
      OIDC_ISSUER: ISSUER,
      OIDC_JWKS_URL: issuer.jwksUrl,
      // /metrics on the app itself, so these tests reach it through app.callback().
      MCP_METRICS_PORT: 'mcp',
      ...env,
    });
    store = new MemoryStore(policy);
    app = createApp({
      config,
      verifier,
      store,
      logger: memoryLogger().logger,
      metrics: createMetrics({ defaultMetrics: false }),
    });
    return app;
  }
  const post = async (claims: Record<string, unknown>, body: unknown, status: number) => {
    const res = await request(app.callback())
      .post('/mcp')
      .set(MCP_HEADERS)
      .set('Authorization', `Bearer ${await issuer.sign(claims)}`)
      .send(body as object);
    assert.equal(res.status, status, res.text);
    return res;
  };

  before(async () => {
    issuer = await startTestIssuer();
    verifier = createAccessTokenVerifier({
      issuer: ISSUER,
      jwksUrl: issuer.jwksUrl,
      audience: AUDIENCE,
      algorithms: ['RS256'],
      clockToleranceSeconds: 0,
    });
  });
  beforeEach(() => build());
  after(() => issuer.close());

  describe('per-tool scopes and roles (MCP authorization 2025-11-25 §Scope Challenge Handling, RFC 6750 §3.1)', () => {
    it('reset_usage without mcp:admin → 403 insufficient_scope naming every scope the tool needs; the tool never runs', async () => {
      store.counts.set('victim', 5);
      const res = await post({}, call('reset_usage', { subject: 'victim' }), 403);
      assert.equal(
        res.headers['www-authenticate'],
        `Bearer resource_metadata="${METADATA_URL}", scope="mcp:tools mcp:admin", error="insufficient_scope", error_description="the reset_usage tool needs the scopes: mcp:tools mcp:admin"`,
      );
      assert.equal(res.body.id, 7);
      assert.equal(res.body.error.code, -32003);
      assert.equal(store.counts.get('victim'), 5, 'not reset');
    });

    it('reset_usage with the mcp:admin scope but without the mcp-admin role → 403 without a step-up challenge', async () => {
      store.counts.set('victim', 5);
      const res = await post(
        { scope: 'mcp:tools mcp:admin' },
        call('reset_usage', { subject: 'victim' }),
        403,
      );
      assert.equal(res.headers['www-authenticate'], undefined, 'a new token cannot add a role');
      assert.match(res.body.error.message, /realm role\(s\) mcp-admin/);
      assert.equal(store.counts.get('victim'), 5);
    });

    it('reset_usage with scope and role → runs, resets the subject and says who did it', async () => {
      store.counts.set('victim', 5);
      const res = await post(ADMIN, call('reset_usage', { subject: 'victim' }), 200);
      assert.deepEqual(res.body.result.structuredContent, {
        subject: 'victim',
        previousCount: 5,
        resetBy: 'f3b1c2d4-0000-4000-8000-000000000001',
      });
      assert.equal(store.counts.has('victim'), false);
    });

    it('an unknown tool → JSON-RPC -32602, not dispatched, not counted', async () => {
      const res = await post({}, call('rm_rf'), 200);
      assert.equal(res.body.error.code, -32602);
      assert.equal(store.counts.size, 0);
    });

    it('the client’s JSON-RPC id comes back unchanged, also for string ids and concurrent requests', async () => {
      const answers = await Promise.all([1, 'a', 1, 'b'].map((id) => post({}, call('whoami', {}, id), 200)));
      assert.deepEqual(
        answers.map((r) => r.body.id),
        [1, 'a', 1, 'b'],
      );
      assert.ok(answers.every((r) => r.body.result.structuredContent.subject));
    });
  });

  describe('one shared McpServer: callers cannot reach each other’s requests', () => {
    it('notifications/cancelled from bob (any requestId) does not cancel alice’s call in flight', async () => {
      build();
      // alice's reset_usage waits in the store until released; meanwhile bob sprays cancellations.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const reset = store.resetUsage.bind(store);
      store.resetUsage = async (subject) => {
        await held;
        return reset(subject);
      };
      const aliceCall = post(ADMIN, call('reset_usage', { subject: 'someone' }), 200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (let requestId = 0; requestId <= 20; requestId += 1) {
        await post(
          { sub: 'bob', preferred_username: 'bob' },
          { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason: 'x' } },
          202,
        );
      }
      release();
      // A cancelled request is never answered: bound the wait so that failure reads as one, not as a hang.
      const answer = await Promise.race([
        aliceCall,
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error('alice’s call was never answered (cancelled by bob)')),
            5_000,
          ).unref(),
        ),
      ]);
      assert.equal(answer.body.result.structuredContent.subject, 'someone');
    });
  });

  describe('per-subject rate limit (draft-ietf-httpapi-ratelimit-headers, RFC 6585 §4)', () => {
    it('the request over the limit → 429 with Retry-After and RateLimit headers; not counted; others unaffected', async () => {
      build({}, { limit: 2, windowSeconds: 60 });
      const first = await post({}, call('usage'), 200);
      assert.equal(first.headers['ratelimit-policy'], '"per-subject";q=2;w=60');
      assert.match(first.headers.ratelimit ?? '', /^"per-subject";r=1;t=\d+$/);
      await post({}, call('usage'), 200);
      const refused = await post({}, call('usage'), 429);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
      assert.match(refused.headers.ratelimit ?? '', /^"per-subject";r=0;t=\d+$/);
      assert.equal(refused.body.error.code, -32000);
      assert.equal(store.counts.get('f3b1c2d4-0000-4000-8000-000000000001'), 2);
      await post({ sub: 'another-user' }, call('usage'), 200);
    });

    it('notifications and refused calls count against the limit too (a flood is a flood), but not as calls', async () => {
      build({}, { limit: 2, windowSeconds: 60 });
      const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
      await post({}, initialized, 202);
      await post({}, call('reset_usage', { subject: 'x' }), 403);
      const refused = await post({}, initialized, 429);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
      assert.equal(store.counts.get('f3b1c2d4-0000-4000-8000-000000000001'), undefined);
    });

    it('MCP_RATE_LIMIT=0 → no limit and no RateLimit headers', async () => {
      const res = await post({}, call('whoami'), 200);
      assert.equal(res.headers.ratelimit, undefined);
    });
  });

  describe('Valkey down (MCP_STORE_FAILURE_MODE)', () => {
    it('closed (default): tool calls refused as tool errors; tools/list still served; /readyz 503 says why', async () => {
      store.down = true;
      const res = await post({}, call('whoami'), 200);
      assert.equal(res.body.result.isError, true);
      const list = await post({}, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, 200);
      assert.ok(list.body.result.tools.length >= 3);
      const ready = await request(app.callback()).get('/readyz').expect(503);
      assert.match(ready.body.checks.valkey.degraded, /refused/);
    });

    it('open: tool calls run uncounted; /readyz stays 200 and says degraded', async () => {
      build({ MCP_STORE_FAILURE_MODE: 'open' });
      store.down = true;
      const res = await post({}, call('whoami'), 200);
      assert.equal(res.body.result.isError, undefined);
      assert.equal(res.body.result.structuredContent.username, 'alice');
      const usage = await post({}, call('usage'), 200);
      assert.equal(usage.body.result.isError, true, 'usage cannot answer without the store');
      const ready = await request(app.callback()).get('/readyz').expect(200);
      assert.equal(ready.body.status, 'degraded');
    });
  });

  describe('Streamable HTTP rules (MCP 2025-11-25 §Transports)', () => {
    it('Accept without text/event-stream → 406', async () => {
      const res = await request(app.callback())
        .post('/mcp')
        .set({ ...MCP_HEADERS, accept: 'application/json' })
        .set('Authorization', `Bearer ${await issuer.sign()}`)
        .send(call('whoami'))
        .expect(406);
      assert.equal(res.body.error.code, -32000);
    });

    it('an unsupported MCP-Protocol-Version → 400; a supported one or none → served', async () => {
      const t = await issuer.sign();
      const send = (version?: string) => {
        const r = request(app.callback()).post('/mcp').set(MCP_HEADERS).set('Authorization', `Bearer ${t}`);
        if (version) r.set('MCP-Protocol-Version', version);
        return r.send(call('whoami'));
      };
      const bad = await send('1999-01-01').expect(400);
      assert.match(bad.body.error.message, /unsupported MCP-Protocol-Version/);
      await send('2025-11-25').expect(200);
      await send('2025-06-18').expect(200);
      await send().expect(200);
    });

    it('a notification → 202 with no body', async () => {
      const res = await post({}, { jsonrpc: '2.0', method: 'notifications/initialized' }, 202);
      assert.equal(res.text, '');
    });

    it('a JSON-RPC batch → 400 -32600 (batching removed in 2025-06-18)', async () => {
      const res = await post({}, [call('whoami')], 400);
      assert.equal(res.body.error.code, -32600);
    });

    it('MCP_REQUIRED_SCOPE replaces mcp:tools in every tool’s rule too (and in the metadata)', async () => {
      build({ MCP_REQUIRED_SCOPE: 'mcp:read' });
      const res = await post({ scope: 'openid mcp:read' }, call('whoami'), 200);
      assert.equal(res.body.result.isError, undefined, res.text);
      const admin = await post({ scope: 'openid mcp:read' }, call('reset_usage', { subject: 'x' }), 403);
      assert.match(admin.headers['www-authenticate'] ?? '', /scope="mcp:read mcp:admin"/);
      const metadata = await request(app.callback()).get('/.well-known/oauth-protected-resource/mcp');
      assert.deepEqual(metadata.body.scopes_supported, ['mcp:read', 'mcp:admin']);
    });

    it('malformed params of tools/call or initialize → -32602 Invalid params in words, not -32603 internal error', async () => {
      const cases: unknown[] = [
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: 'x' } },
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 5 } },
        { jsonrpc: '2.0', id: 3, method: 'tools/call' },
        {
          jsonrpc: '2.0',
          id: 4,
          method: 'initialize',
          params: { capabilities: {}, clientInfo: { name: 'c', version: '1' } },
        },
        {
          jsonrpc: '2.0',
          id: 5,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', clientInfo: { name: 'c', version: '1' } },
        },
        {
          jsonrpc: '2.0',
          id: 6,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: {} },
        },
      ];
      for (const body of cases) {
        const res = await post({}, body, 200);
        assert.equal(res.body.error?.code, -32602, res.text);
        assert.match(res.body.error.message, /^Invalid params: /);
        assert.equal(res.body.id, (body as { id: number }).id);
      }
      assert.equal(store.counts.size, 0, 'a call that did not run is not counted');
    });

    it('initialize answers with the newest protocol version the client asked for', async () => {
      const res = await post(
        {},
        {
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 'unit', version: '0' },
          },
        },
        200,
      );
      assert.equal(res.body.result.protocolVersion, '2025-11-25');
      assert.equal(res.headers['mcp-session-id'], undefined, 'stateless: no session');
    });
  });

  describe('Origin allow-list and CORS (MCP 2025-11-25 §Security Warning: DNS rebinding)', () => {
    it('a foreign Origin → 403 before any token check', async () => {
      const res = await request(app.callback())
        .post('/mcp')
        .set(MCP_HEADERS)
        .set('Origin', 'http://evil.example')
        .send(call('whoami'))
        .expect(403);
      assert.equal(res.body.error, 'origin_not_allowed');
    });

    it('an allowed Origin gets CORS headers that expose the challenge headers, also on a 401', async () => {
      build({ MCP_ALLOWED_ORIGINS: 'http://localhost:6274' });
      const res = await request(app.callback())
        .post('/mcp')
        .set(MCP_HEADERS)
        .set('Origin', 'http://localhost:6274')
        .send(call('whoami'))
        .expect(401);
      assert.equal(res.headers['access-control-allow-origin'], 'http://localhost:6274');
      for (const header of ['WWW-Authenticate', 'Mcp-Session-Id', 'MCP-Protocol-Version']) {
        assert.match(res.headers['access-control-expose-headers'] ?? '', new RegExp(header));
      }
      assert.equal(res.headers['access-control-allow-credentials'], undefined);
    });

    it('the preflight for an allowed Origin → 204 allowing Authorization and MCP-Protocol-Version', async () => {
      build({ MCP_ALLOWED_ORIGINS: 'http://localhost:6274' });
      const res = await request(app.callback())
        .options('/mcp')
        .set('Origin', 'http://localhost:6274')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization, content-type, mcp-protocol-version')
        .expect(204);
      assert.match(res.headers['access-control-allow-headers'] ?? '', /Authorization/);
      assert.match(res.headers['access-control-allow-headers'] ?? '', /MCP-Protocol-Version/);
      assert.match(res.headers['access-control-allow-methods'] ?? '', /POST/);
    });

    it('the body limit is configurable (MCP_MAX_BODY_BYTES) → 413 as a JSON-RPC error', async () => {
      build({ MCP_MAX_BODY_BYTES: '2048' });
      const res = await post({}, { ...call('whoami'), pad: 'x'.repeat(4096) }, 413);
      assert.equal(res.body.error.code, -32000);
    });

    it('a streamed body without Content-Length is cut at the limit too → 413, connection closed, server fine', async () => {
      build({ MCP_MAX_BODY_BYTES: '2048' });
      const server = createServer(app.callback());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const token = await issuer.sign({});
      try {
        const answer = await new Promise<{ status: number; connection: string; body: string }>(
          (resolve, reject) => {
            const req = httpRequest(
              {
                port,
                host: '127.0.0.1',
                method: 'POST',
                path: '/mcp',
                headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, // chunked: no length
              },
              (res) => {
                let body = '';
                res.on('data', (chunk: Buffer) => (body += chunk.toString()));
                res.on('end', () =>
                  resolve({
                    status: res.statusCode ?? 0,
                    connection: String(res.headers.connection),
                    body,
                  }),
                );
              },
            );
            req.on('error', reject);
            req.write(`{"jsonrpc":"2.0","id":1,"method":"ping","pad":"${'x'.repeat(1500)}`);
            // The rest arrives later, past the limit; the server must not wait for an end that never comes.
            setTimeout(() => req.write('y'.repeat(1500)), 20);
          },
        );
        assert.equal(answer.status, 413, answer.body);
        assert.equal(answer.connection, 'close');
        assert.equal(JSON.parse(answer.body).error.code, -32000);
        await post({}, call('whoami'), 200);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    });
  });

  describe('GET /metrics (Prometheus)', () => {
    it('auth outcomes by reason code, tool calls by tool and outcome, latency histograms', async () => {
      await post({}, call('whoami'), 200);
      await post({}, call('reset_usage', { subject: 'x' }), 403);
      await post({ aud: 'account' }, call('whoami'), 401);
      await request(app.callback()).post('/mcp').set(MCP_HEADERS).send(call('whoami')).expect(401);
      const res = await request(app.callback()).get('/metrics').expect(200);
      assert.match(res.headers['content-type'] ?? '', /text\/plain/);
      const text = res.text;
      assert.match(text, /mcp_auth_outcomes_total\{outcome="ok"\} 2/);
      assert.match(text, /mcp_auth_outcomes_total\{outcome="audience_mismatch"\} 1/);
      assert.match(text, /mcp_auth_outcomes_total\{outcome="token_missing"\} 1/);
      assert.match(text, /mcp_tool_calls_total\{tool="whoami",outcome="ok"\} 1/);
      assert.match(text, /mcp_tool_calls_total\{tool="reset_usage",outcome="insufficient_scope"\} 1/);
      assert.match(text, /mcp_tool_call_duration_seconds_bucket\{le="[^"]+",tool="whoami"\} 1/);
      assert.match(
        text,
        /mcp_http_request_duration_seconds_count\{route="\/mcp",method="POST",status="200"\} 1/,
      );
      assert.doesNotMatch(text, /f3b1c2d4/, 'no subject in any label');
    });
  });
});
