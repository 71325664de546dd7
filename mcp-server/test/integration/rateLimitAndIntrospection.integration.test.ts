// Two MCP server replicas sharing the stack's Valkey, and the RFC 7662 introspection mode, with real
// Keycloak tokens (the seeded M2M client's client_credentials grant). Servers are spawned here with their
// own settings (the same main.ts as `npm start`); the stack's own server is left alone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { freePort, startMcpServer, type McpServerProcess } from '../e2e/support/mcpServerProcess.ts';
import { loadStack } from '../e2e/support/stack.ts';
import { clientCredentialsToken } from '../e2e/support/tokens.ts';
import { loginWithCode } from '../attacks/support/attackKit.ts';
import { startLoopbackCallback } from '../e2e/support/loopbackCallback.ts';
import { user } from '../e2e/support/stack.ts';
import { createAdminCapableClient, createIntrospectionClient } from './support/realmAdmin.ts';

const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

function post(baseUrl: string, token: string, name = 'whoami') {
  return fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } }),
  });
}

describe(
  'rate limit shared by replicas, and introspection mode, on the real stack',
  { concurrency: false },
  () => {
    let card: StackCard;
    let m2mToken: string;
    const servers: McpServerProcess[] = [];

    before(async () => {
      card = await loadStack();
      const m2m = card.clients.m2m;
      if (!m2m?.clientSecret) throw new Error('the stack card has no M2M client');
      m2mToken = (
        await clientCredentialsToken(
          `${card.issuer}/protocol/openid-connect/token`,
          {
            clientId: m2m.clientId,
            clientSecret: m2m.clientSecret,
          },
          'mcp:tools',
        )
      ).access_token;
    });
    after(async () => {
      await Promise.all(servers.map((s) => s.stop()));
    });

    it('the per-subject limit is counted in Valkey across two replicas: the request over it → 429 with Retry-After and RateLimit headers (RFC 6585 §4, draft-ietf-httpapi-ratelimit-headers)', async () => {
      // A window long enough that the test never straddles two of them; the key is the M2M subject's, so a
      // per-run rate-limit window is made unique by a distinct limit key prefix? No: by deleting nothing and
      // asserting relative to the first answer's remaining count instead.
      const env = { MCP_RATE_LIMIT: '1000000', MCP_RATE_LIMIT_WINDOW_SECONDS: '600' };
      const a = await startMcpServer(card, await freePort(), env);
      servers.push(a);
      const first = await post(a.baseUrl, m2mToken);
      assert.equal(first.status, 200);
      const remaining = Number(/r=(\d+)/.exec(first.headers.get('ratelimit') ?? '')?.[1]);
      assert.ok(Number.isInteger(remaining), `RateLimit header: ${first.headers.get('ratelimit')}`);
      await a.stop();
      servers.pop();

      // Now two replicas whose limit is exactly what this subject has used so far + 3 more requests.
      const used = 1_000_000 - remaining;
      const limited = { MCP_RATE_LIMIT: String(used + 3), MCP_RATE_LIMIT_WINDOW_SECONDS: '600' };
      const [r1, r2] = await Promise.all([
        startMcpServer(card, await freePort(), limited),
        startMcpServer(card, await freePort(), limited),
      ]);
      servers.push(r1 as McpServerProcess, r2 as McpServerProcess);
      assert.equal((await post(r1!.baseUrl, m2mToken)).status, 200);
      assert.equal((await post(r2!.baseUrl, m2mToken)).status, 200);
      const third = await post(r1!.baseUrl, m2mToken);
      assert.equal(third.status, 200);
      assert.match(third.headers.get('ratelimit') ?? '', /^"per-subject";r=0;t=\d+$/);
      const refused = await post(r2!.baseUrl, m2mToken);
      assert.equal(refused.status, 429, 'the second replica sees the first one’s requests');
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
      assert.match(refused.headers.get('ratelimit-policy') ?? '', /^"per-subject";q=\d+;w=600$/);
      const body = (await refused.json()) as { error: { code: number; message: string } };
      assert.equal(body.error.code, -32000);
      assert.match(body.error.message, /Too Many Requests/);
    });

    it("introspection mode: a person's token works too (Keycloak's answer names client_id for every token)", async () => {
      const introspector = await createIntrospectionClient(card);
      const callback = await startLoopbackCallback();
      const client = await createAdminCapableClient(card, callback.redirectUri);
      try {
        const server = await startMcpServer(card, await freePort(), {
          OIDC_TOKEN_VALIDATION: 'introspection',
          OIDC_INTROSPECTION_CLIENT_ID: introspector.clientId,
          OIDC_INTROSPECTION_CLIENT_SECRET: introspector.clientSecret,
        });
        servers.push(server);
        const tokens = await loginWithCode(card, {
          clientId: client.clientId,
          callback,
          credentials: user(card, 'bob'),
          scope: 'openid mcp:tools',
        });
        const answer = await post(server.baseUrl, String(tokens.access_token));
        assert.equal(answer.status, 200, await answer.clone().text());
        const body = (await answer.json()) as { result?: { structuredContent?: { username?: string } } };
        assert.equal(body.result?.structuredContent?.username, 'bob');
      } finally {
        await client.remove().catch(() => {});
        await callback.close();
        await introspector.remove().catch(() => {});
      }
    });

    it('introspection mode (RFC 7662): an active token works; after revocation (RFC 7009) the same token → 401 invalid_token at once', async () => {
      const introspector = await createIntrospectionClient(card);
      try {
        const server = await startMcpServer(card, await freePort(), {
          OIDC_TOKEN_VALIDATION: 'introspection',
          // No OIDC_INTROSPECTION_URL: derived next to the card's loopback JWKS URL. Keycloak runs with
          // --hostname, so its issuer (and the token's activity) does not depend on the address asked.
          OIDC_INTROSPECTION_CLIENT_ID: introspector.clientId,
          OIDC_INTROSPECTION_CLIENT_SECRET: introspector.clientSecret,
        });
        servers.push(server);
        const m2m = card.clients.m2m as { clientId: string; clientSecret: string };
        const token = (
          await clientCredentialsToken(`${card.issuer}/protocol/openid-connect/token`, m2m, 'mcp:tools')
        ).access_token;
        const ok = await post(server.baseUrl, token);
        assert.equal(ok.status, 200, await ok.clone().text());

        const basic = Buffer.from(
          `${encodeURIComponent(m2m.clientId)}:${encodeURIComponent(m2m.clientSecret)}`,
        ).toString('base64');
        const revoked = await fetch(`${card.issuer}/protocol/openid-connect/revoke`, {
          method: 'POST',
          headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        });
        assert.equal(revoked.status, 200);
        const after = await post(server.baseUrl, token);
        assert.equal(after.status, 401);
        assert.match(
          after.headers.get('www-authenticate') ?? '',
          /error="invalid_token", error_description="token is not active"/,
        );
      } finally {
        await introspector.remove().catch(() => {});
      }
    });
  },
);
