// The MCP TypeScript SDK client with its own OAuth machinery (OAuthClientProvider + StreamableHTTPClientTransport's
// authProvider) against the real stack: discovery → DCR → PKCE → Keycloak login → tool call, refresh once the
// access token has expired (the registered client gets a short lifespan through the admin API), and failure
// once the person's Keycloak sessions are ended. MCP authorization spec 2025-11-25; RFC 9728, 8414, 7591, 7636.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { CookieJar } from '../e2e/support/cookieJar.ts';
import { loginThroughBrowserForm } from '../e2e/support/keycloakLogin.ts';
import { startLoopbackCallback, type LoopbackCallback } from '../e2e/support/loopbackCallback.ts';
import { toolJson } from '../e2e/support/mcpClient.ts';
import { decodeJwtPayload, loadStack, user } from '../e2e/support/stack.ts';
import { keycloakAdmin } from './support/consoleClient.ts';
import { MemoryOAuthProvider } from './support/memoryOAuthProvider.ts';

const ACCESS_TOKEN_LIFESPAN_SECONDS = 10;

describe('MCP TypeScript SDK client with its OAuth client provider', { concurrency: false }, () => {
  let card: StackCard;
  let callback: LoopbackCallback;
  let provider: MemoryOAuthProvider;
  const grants: string[] = [];
  const jar = new CookieJar();

  /** fetch as the SDK would do it, noting each token-endpoint grant type. */
  const recordingFetch: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.endsWith('/protocol/openid-connect/token') && init?.body) {
      grants.push(new URLSearchParams(String(init.body)).get('grant_type') ?? '?');
    }
    return fetch(input, init);
  };
  const newClient = () => ({
    client: new Client({ name: 'sdk-oauth-test', version: '0.1.0' }),
    transport: new StreamableHTTPClientTransport(new URL(card.mcpUrl), {
      authProvider: provider,
      fetch: recordingFetch,
    }),
  });

  /** Waits until the MCP server itself refuses the stored access token (expiry plus its clock tolerance). */
  async function untilServerRejectsAccessToken() {
    for (let attempt = 0; attempt < 60; attempt += 1) {
      const response = await fetch(card.mcpUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${provider.savedTokens?.access_token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      await response.body?.cancel();
      if (response.status === 401) return;
      await sleep(2000);
    }
    throw new Error('the MCP server kept accepting an expired access token');
  }

  before(async () => {
    card = await loadStack();
    callback = await startLoopbackCallback();
    provider = new MemoryOAuthProvider(callback.redirectUri);
  });
  after(async () => {
    await callback?.close();
    if (provider?.client?.client_id) {
      const admin = await keycloakAdmin(card);
      const [registered] = await admin.clients.find({ clientId: provider.client.client_id });
      if (registered?.id) await admin.clients.del({ id: registered.id });
    }
  });

  it('first connect: 401 → discovery → dynamic client registration → authorization URL with PKCE S256 and resource', async () => {
    const { client, transport } = newClient();
    await assert.rejects(client.connect(transport), UnauthorizedError);
    assert.ok(provider.client?.client_id, 'the SDK registered no client');
    assert.equal(
      (provider.client as { client_secret?: string }).client_secret,
      undefined,
      'a public client gets no secret',
    );
    const [url] = provider.authorizationUrls;
    assert.ok(url, 'the SDK asked for no authorization');
    assert.equal(url.origin + url.pathname, `${card.issuer}/protocol/openid-connect/auth`);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(url.searchParams.get('client_id'), provider.client.client_id);
    assert.equal(url.searchParams.get('resource'), card.mcpUrl);
    assert.match(url.searchParams.get('scope') ?? '', /(^| )mcp:tools( |$)/);

    // The test realm's short lifespan for this one client, so the refresh below happens in seconds.
    const admin = await keycloakAdmin(card);
    const [registered] = await admin.clients.find({ clientId: provider.client.client_id });
    assert.ok(registered?.id);
    await admin.clients.update(
      { id: registered.id },
      {
        ...registered,
        attributes: {
          ...registered.attributes,
          'access.token.lifespan': String(ACCESS_TOKEN_LIFESPAN_SECONDS),
        },
      },
    );
  });

  it("login on Keycloak's form, finishAuth exchanges the code, then a tool call with the SDK's bearer", async () => {
    const [url] = provider.authorizationUrls;
    assert.ok(url);
    const { code, state } = await loginThroughBrowserForm({
      authorizationUrl: url,
      ...user(card, 'alice'),
      callback,
      jar,
    });
    assert.equal(state, url.searchParams.get('state'));
    const { client, transport } = newClient();
    await transport.finishAuth(code);
    assert.deepEqual(grants, ['authorization_code']);
    const claims = decodeJwtPayload(provider.savedTokens?.access_token ?? '');
    assert.equal(claims.preferred_username, 'alice');
    assert.equal(Number(claims.exp) - Number(claims.iat), ACCESS_TOKEN_LIFESPAN_SECONDS);
    assert.ok(provider.savedTokens?.refresh_token, 'no refresh token');

    await client.connect(transport);
    const whoami = toolJson(await client.callTool({ name: 'whoami', arguments: {} }));
    assert.equal(whoami.username, 'alice');
    assert.equal(whoami.clientId, provider.client?.client_id);
    await client.close();
  });

  it('after the access token expires: the server answers 401, the SDK refreshes and retries by itself', async () => {
    const before = provider.savedTokens?.access_token;
    await untilServerRejectsAccessToken();
    const { client, transport } = newClient();
    await client.connect(transport);
    const usage = toolJson(await client.callTool({ name: 'usage', arguments: {} }));
    assert.equal(typeof usage.count, 'number');
    assert.deepEqual(grants, ['authorization_code', 'refresh_token']);
    assert.notEqual(provider.savedTokens?.access_token, before);
    assert.equal(provider.authorizationUrls.length, 1, 'no new login was needed');
    await client.close();
  });

  it('after logout (Keycloak sessions ended): refresh fails, the call fails, and the SDK asks for a new login', async () => {
    const admin = await keycloakAdmin(card);
    const [alice] = await admin.users.find({ username: 'alice', exact: true });
    assert.ok(alice?.id);
    await admin.users.logout({ id: alice.id });
    // A JWT access token stays valid until it expires (the server does not ask Keycloak); then it is refused.
    await untilServerRejectsAccessToken();
    const { client, transport } = newClient();
    await assert.rejects(client.connect(transport), UnauthorizedError);
    assert.deepEqual(grants, ['authorization_code', 'refresh_token', 'refresh_token']);
    assert.ok(provider.invalidated.includes('tokens'), 'the refused refresh token was not dropped');
    assert.equal(provider.savedTokens, undefined);
    assert.equal(provider.authorizationUrls.length, 2, 'the SDK did not start a new authorization');
  });
});
