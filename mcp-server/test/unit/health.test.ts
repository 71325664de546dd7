// /readyz names the token check for what the verifier really probes: `jwks` (keys) or `introspection`
// (the endpoint answers). The JWT-mode answer is covered through the whole app in app.test.ts.
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

function app(tokenCheck: TokenCheck, keys: () => Promise<void>) {
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
      store: new MemoryStore(),
      verifier,
      tokenCheck,
      storeFailureMode: 'closed',
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
