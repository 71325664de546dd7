// /readyz names the token check for what the verifier really probes: `jwks` (keys) or `introspection`
// (the endpoint answers). The JWT-mode answer is covered through the whole app in app.test.ts. With Valkey down it
// is 503 in the (default) closed failure mode, so a balancer and monitoring see the outage callers only see as
// tool errors; 200 "degraded" in open mode.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { createApp } from '../../src/app.ts';
import type { AccessTokenVerifier } from '../../src/auth/verifyAccessToken.ts';
import { loadConfig } from '../../src/config.ts';
import { readyz, type TokenCheck } from '../../src/http/health.ts';
import type { AppState } from '../../src/http/appState.ts';
import { MemoryStore, memoryLogger } from './support/fakes.ts';

function app(
  tokenCheck: TokenCheck,
  keys: () => Promise<void>,
  valkey: { store?: MemoryStore; mode?: 'closed' | 'open' } = {},
) {
  const verifier = Object.assign(async () => Promise.reject(new Error('not used')), {
    checkKeys: keys,
  }) as AccessTokenVerifier;
  const { logger, lines } = memoryLogger();
  const koa = new Koa<AppState>();
  koa.use(async (ctx, next) => {
    ctx.state.log = logger;
    await next();
  });
  koa.use(
    readyz({
      store: valkey.store ?? new MemoryStore(),
      verifier,
      tokenCheck,
      storeFailureMode: valkey.mode ?? 'closed',
      draining: () => false,
    }),
  );
  return { koa, lines };
}

describe('GET /readyz token check name', () => {
  it('introspection mode: checks.introspection, no jwks', async () => {
    const { koa } = app('introspection', async () => {});
    const res = await request(koa.callback()).get('/readyz').expect(200);
    assert.deepEqual(res.body, {
      status: 'ok',
      checks: { valkey: { ok: true }, introspection: { ok: true } },
    });
  });

  it('introspection unreachable: 503, the reason under checks.introspection and in the log', async () => {
    const { koa, lines } = app('introspection', async () => {
      throw new Error('token introspection is unavailable', { cause: new Error('connect ECONNREFUSED') });
    });
    const res = await request(koa.callback()).get('/readyz').expect(503);
    assert.deepEqual(res.body.checks.introspection, { ok: false, error: 'connect ECONNREFUSED' });
    assert.equal(res.body.checks.jwks, undefined);
    assert.ok(lines.some((line) => line.includes('"introspection"') && line.includes('not ready')));
  });

  it('jwt mode keeps the jwks name', async () => {
    const { koa } = app('jwks', async () => {});
    const res = await request(koa.callback()).get('/readyz').expect(200);
    assert.deepEqual(res.body.checks, { valkey: { ok: true }, jwks: { ok: true } });
  });

  it('the app names it from the configured verification mode', async () => {
    const verifier = Object.assign(async () => Promise.reject(new Error('not used')), {
      checkKeys: async () => {},
    }) as AccessTokenVerifier;
    const config = loadConfig({
      OIDC_TOKEN_VALIDATION: 'introspection',
      OIDC_INTROSPECTION_CLIENT_ID: 'mcp-introspector',
      OIDC_INTROSPECTION_CLIENT_SECRET: 's3cret',
      MCP_METRICS_ENABLED: 'false',
    });
    const introspecting = createApp({
      config,
      verifier,
      store: new MemoryStore(),
      logger: memoryLogger().logger,
    });
    const res = await request(introspecting.callback()).get('/readyz').expect(200);
    assert.deepEqual(Object.keys(res.body.checks), ['valkey', 'introspection']);
    await introspecting.close();
  });
});

describe('GET /readyz with Valkey down', () => {
  const down = () => Object.assign(new MemoryStore(), { down: true });

  it('closed failure mode: 503 "unavailable", the reason and what it means for tool calls, a log line', async () => {
    const { koa, lines } = app('jwks', async () => {}, { store: down(), mode: 'closed' });
    const res = await request(koa.callback()).get('/readyz').expect(503);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.deepEqual(res.body, {
      status: 'unavailable',
      checks: {
        valkey: {
          ok: false,
          error: 'Valkey admit failed: Connection is closed.',
          degraded: 'tool calls are refused until Valkey is back (MCP_STORE_FAILURE_MODE=closed)',
        },
        jwks: { ok: true },
      },
    });
    assert.ok(lines.some((line) => line.includes('not ready') && line.includes('"valkey"')));
  });

  it('open failure mode: 200 "degraded" (calls run uncounted), the reason still named', async () => {
    const { koa } = app('jwks', async () => {}, { store: down(), mode: 'open' });
    const res = await request(koa.callback()).get('/readyz').expect(200);
    assert.equal(res.body.status, 'degraded');
    assert.equal(res.body.checks.valkey.ok, false);
    assert.match(res.body.checks.valkey.degraded, /uncounted and without rate limit/);
  });
});
