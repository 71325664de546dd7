// The MCP TypeScript SDK client with its own OAuth machinery against an upstream behind the gateway: the stack's
// `everything` (@modelcontextprotocol/server-everything over stdio, compose/gateway/upstreams.yaml), found in the
// stack card's `upstreams`. The SDK reads the upstream's own 401 challenge and metadata, registers itself (DCR),
// a real headless Chromium logs in on Keycloak's form, and the SDK calls `echo` with a token whose audience is
// the upstream's URL. MCP authorization spec 2025-11-25; RFC 9728 (path-inserted metadata), 7591, 7636, 8707.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser } from 'playwright-core';
import type { StackCard, StackUpstream } from '@mcp-keycloak-stack/seed/stackCard';
import { startLoopbackCallback, type LoopbackCallback } from '../e2e/support/loopbackCallback.ts';
import { decodeJwtPayload, loadStack, user } from '../e2e/support/stack.ts';
import { launchChromium, logInAt, screenshotDir } from './support/browser.ts';
import { keycloakAdmin } from './support/consoleClient.ts';
import { MemoryOAuthProvider } from './support/memoryOAuthProvider.ts';

const UPSTREAM = 'everything';

describe(
  'MCP TypeScript SDK client through the gateway (upstream everything), Chromium login',
  { concurrency: false },
  () => {
    let card: StackCard;
    let upstream: StackUpstream | undefined;
    let callback: LoopbackCallback;
    let provider: MemoryOAuthProvider;
    let browser: Browser | undefined;

    const newClient = (url: string) => ({
      client: new Client({ name: 'sdk-gateway-test', version: '0.1.0' }),
      transport: new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }),
    });

    before(async () => {
      card = await loadStack();
      upstream = card.upstreams?.find((u) => u.name === UPSTREAM);
      callback = await startLoopbackCallback();
      provider = new MemoryOAuthProvider(callback.redirectUri);
    });
    after(async () => {
      await browser?.close();
      await callback?.close();
      if (provider?.client?.client_id) {
        const admin = await keycloakAdmin(card);
        const [registered] = await admin.clients.find({ clientId: provider.client.client_id });
        if (registered?.id) await admin.clients.del({ id: registered.id });
      }
    });

    it('401 at the upstream → its metadata → DCR → Chromium login on Keycloak → echo through the gateway', async (t) => {
      if (!upstream) {
        t.skip(`the stack serves no upstream "${UPSTREAM}" (started with MCP_UPSTREAMS_FILE= empty?)`);
        return;
      }
      const url = upstream.mcpUrl;
      const first = newClient(url);
      await assert.rejects(first.client.connect(first.transport), UnauthorizedError);
      assert.ok(provider.client?.client_id, 'the SDK registered no client');
      const [authorizationUrl] = provider.authorizationUrls;
      assert.ok(authorizationUrl, 'the SDK asked for no authorization');
      assert.equal(
        authorizationUrl.origin + authorizationUrl.pathname,
        `${card.issuer}/protocol/openid-connect/auth`,
      );
      assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
      // RFC 8707 resource and the scope are the upstream's (from its own challenge and metadata), not /mcp's.
      assert.equal(authorizationUrl.searchParams.get('resource'), url);
      assert.ok(
        (authorizationUrl.searchParams.get('scope') ?? '').split(' ').includes(`mcp:${UPSTREAM}`),
        authorizationUrl.searchParams.get('scope') ?? '',
      );

      browser = await launchChromium();
      const received = callback.next();
      await logInAt(browser, authorizationUrl, user(card, 'bob'), {
        done: (u) => u.origin === new URL(callback.redirectUri).origin,
        shots: await screenshotDir('gateway-client'),
        name: '',
        client: 'sdk',
      });
      const query = await received;
      assert.equal(query.get('error'), null, query.get('error_description') ?? '');
      assert.equal(query.get('state'), authorizationUrl.searchParams.get('state'));
      const code = query.get('code');
      assert.ok(code, 'no authorization code reached the callback');

      const { client, transport } = newClient(url);
      await transport.finishAuth(code);
      const claims = decodeJwtPayload(provider.savedTokens?.access_token ?? '');
      assert.equal(claims.preferred_username, 'bob');
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      assert.ok(aud.includes(url), `aud ${JSON.stringify(claims.aud)}`);
      assert.ok(String(claims.scope).split(' ').includes(`mcp:${UPSTREAM}`), String(claims.scope));

      await client.connect(transport);
      try {
        assert.ok(transport.sessionId, 'the gateway issued no Mcp-Session-Id');
        const tools = (await client.listTools()).tools.map((tool) => tool.name);
        assert.ok(tools.includes('echo'), tools.join(', '));
        assert.ok(!tools.includes('get-env'), 'bob sees the admin-only get-env');
        assert.ok(!tools.includes('gzip-file-as-resource'), 'the denied gzip-file-as-resource is listed');
        const message = `through the gateway ${crypto.randomUUID()}`;
        const result = await client.callTool({ name: 'echo', arguments: { message } });
        assert.equal(result.isError ?? false, false, JSON.stringify(result));
        assert.match(JSON.stringify(result.content), new RegExp(message));
      } finally {
        await client.close();
      }
    });
  },
);
