// Per-tool authorization with real Keycloak tokens: alice (realm role mcp-admin) and bob log in through
// Keycloak's login form on a client that may ask for mcp:admin. Checks MCP authorization spec 2025-11-25
// §Scope Challenge Handling (403 insufficient_scope + step-up) and RFC 6750 §3.1 on the stack's own server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { CookieJar } from '../e2e/support/cookieJar.ts';
import { startLoopbackCallback, type LoopbackCallback } from '../e2e/support/loopbackCallback.ts';
import { decodeJwtPayload, loadStack } from '../e2e/support/stack.ts';
import { formLoginToken } from './support/formLogin.ts';
import { createAdminCapableClient } from './support/realmAdmin.ts';

const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
};

async function callTool(card: StackCard, token: string, name: string, args: Record<string, unknown> = {}) {
  const response = await fetch(card.mcpUrl, {
    method: 'POST',
    headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  });
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    body: (await response.json()) as {
      result?: { structuredContent?: Record<string, unknown>; isError?: boolean };
      error?: { code: number; message: string };
    },
  };
}

/** The `scope` parameter of a Bearer challenge. */
function challengedScope(challenge: string | null): string[] {
  return (/scope="([^"]*)"/.exec(challenge ?? '')?.[1] ?? '').split(' ').filter(Boolean);
}

describe('per-tool scopes, roles and step-up with real Keycloak tokens', { concurrency: false }, () => {
  let card: StackCard;
  let callback: LoopbackCallback;
  let client: { clientId: string; remove(): Promise<void> };
  const jars = { alice: new CookieJar(), bob: new CookieJar() };

  async function login(username: 'alice' | 'bob', scope: string): Promise<string> {
    return formLoginToken({
      card,
      clientId: client.clientId,
      callback,
      username,
      jar: jars[username],
      scope,
    });
  }

  before(async () => {
    card = await loadStack();
    callback = await startLoopbackCallback();
    client = await createAdminCapableClient(card, callback.redirectUri);
  });
  after(async () => {
    await client?.remove().catch(() => {});
    await callback?.close();
  });

  let aliceSubject: string;

  it('alice with mcp:tools only: reset_usage → 403 insufficient_scope with scope="mcp:tools mcp:admin" (every scope the call needs) (MCP auth §Scope Challenge Handling, RFC 6750 §3.1)', async () => {
    const token = await login('alice', 'openid mcp:tools');
    aliceSubject = String(decodeJwtPayload(token).sub);
    const whoami = await callTool(card, token, 'whoami');
    assert.equal(whoami.status, 200);
    assert.ok((whoami.body.result?.structuredContent?.roles as string[]).includes('mcp-admin'));
    const denied = await callTool(card, token, 'reset_usage', { subject: aliceSubject });
    assert.equal(denied.status, 403);
    assert.match(denied.challenge ?? '', /^Bearer resource_metadata="[^"]+", /);
    assert.match(denied.challenge ?? '', /error="insufficient_scope"/);
    assert.deepEqual(challengedScope(denied.challenge).sort(), ['mcp:admin', 'mcp:tools']);
    assert.match(denied.challenge ?? '', new RegExp(`resource_metadata="${card.resourceMetadataUrl}"`));
  });

  it('alice steps up with the challenged scopes (SSO, no password again) and runs the admin tool', async () => {
    const before = await login('alice', 'openid mcp:tools');
    await callTool(card, before, 'usage'); // make sure she has a count to reset
    const token = await login('alice', 'openid mcp:tools mcp:admin');
    assert.match(String(decodeJwtPayload(token).scope), /(^| )mcp:admin( |$)/);
    const reset = await callTool(card, token, 'reset_usage', { subject: aliceSubject });
    assert.equal(reset.status, 200, JSON.stringify(reset.body));
    assert.equal(reset.body.result?.structuredContent?.subject, aliceSubject);
    assert.ok(Number(reset.body.result?.structuredContent?.previousCount) >= 1);
    const usage = await callTool(card, token, 'usage');
    assert.equal(usage.body.result?.structuredContent?.count, 1, 'counting starts again after the reset');
  });

  it('bob asking for mcp:admin gets a token without it (Keycloak grants it only with the mcp-admin role) → 403 insufficient_scope', async () => {
    const token = await login('bob', 'openid mcp:tools mcp:admin');
    const claims = decodeJwtPayload(token);
    assert.doesNotMatch(String(claims.scope), /mcp:admin/);
    const usage = await callTool(card, token, 'usage');
    assert.equal(usage.status, 200, 'bob can use ordinary tools');
    const denied = await callTool(card, token, 'reset_usage', { subject: aliceSubject });
    assert.equal(denied.status, 403);
    assert.match(denied.challenge ?? '', /error="insufficient_scope"/);
    assert.equal(denied.body.error?.code, -32003);
  });

  it('no token → 401 with resource_metadata and scope, no error code; a bad token adds error="invalid_token" (RFC 6750 §3.1, MCP auth §Authorization Server Discovery)', async () => {
    const none = await fetch(card.mcpUrl, {
      method: 'POST',
      headers: MCP_HEADERS,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(none.status, 401);
    assert.equal(
      none.headers.get('www-authenticate'),
      `Bearer resource_metadata="${card.resourceMetadataUrl}", scope="mcp:tools"`,
    );
    const bad = await fetch(card.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: 'Bearer not.a.token' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate') ?? '', /scope="mcp:tools", error="invalid_token"/);
  });
});
