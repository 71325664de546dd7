// Attack replay against the running gateway (/mcp/<name>, docs/gateway.md) of the stack: tokens for another
// resource, another subject's session, another caller's request, tools the policy keeps from a caller, path
// tricks, odd bodies, what the stdio upstream's environment and /readyz show, and the process cap. Real
// Keycloak tokens (code + PKCE through the login form, the seeded M2M client), the real MCP server and its
// `everything` upstream (compose/gateway/upstreams.yaml). Tests of a way in fail until it is closed.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { startLoopbackCallback, type LoopbackCallback } from '../e2e/support/loopbackCallback.ts';
import { decodeJwtPayload, loadStack, stackCardPath, user } from '../e2e/support/stack.ts';
import { McpSession, postMcp, resultText } from '../integration/support/mcpHttp.ts';
import { createPublicClientWithScopes } from '../integration/support/realmAdmin.ts';
import {
  Cleanup,
  MCP_HEADERS,
  TEST_TIMEOUT_MS,
  basicAuth,
  createThrowawayUser,
  loginWithCode,
  mcpPost,
  timedFetch,
  tokenRequest,
} from './support/attackKit.ts';

const UPSTREAM = 'everything';
const FORBIDDEN = -32003;
const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'gateway-attack', version: '0.1.0' },
  },
};
/** compose/gateway/upstreams.yaml: transport.maxProcesses of `everything`. */
const MAX_PROCESSES = 20;

function audienceOf(token: string): string[] {
  const aud = decodeJwtPayload(token).aud;
  return Array.isArray(aud) ? aud.map(String) : [String(aud)];
}

describe('attack: the gateway (/mcp/everything)', { concurrency: false, timeout: 900_000 }, () => {
  let card: StackCard;
  let callback: LoopbackCallback;
  let client: { clientId: string; remove(): Promise<void> } | undefined;
  let upstreamUrl: string;
  let metadataUrl: string;
  let origin: string;
  const cleanup = new Cleanup(() => card);
  const tokens = new Map<string, string>();

  before(async () => {
    card = await loadStack();
    const upstream = card.upstreams?.find((u) => u.name === UPSTREAM);
    assert.ok(upstream, `the stack card lists no upstream "${UPSTREAM}" (run the seed: upstreams)`);
    upstreamUrl = upstream.mcpUrl;
    metadataUrl = upstream.resourceMetadataUrl;
    origin = new URL(upstreamUrl).origin;
    callback = await startLoopbackCallback();
    client = await createPublicClientWithScopes(card, callback.redirectUri, [`mcp:${UPSTREAM}`, 'mcp:admin']);
  });
  after(async () => {
    await client?.remove().catch(() => {});
    await cleanup.run();
    await callback?.close();
  });

  /** A user's access token for `scope` (cached per user and scope: SSO makes the next ones cheap anyway). */
  async function login(credentials: { username: string; password: string }, scope: string): Promise<string> {
    const key = `${credentials.username} ${scope}`;
    const known = tokens.get(key);
    if (known) return known;
    if (!client) throw new Error('no login client');
    const answer = await loginWithCode(card, { clientId: client.clientId, callback, credentials, scope });
    const token = String(answer.access_token);
    tokens.set(key, token);
    return token;
  }
  const alice = () => login(user(card, 'alice'), `openid mcp:${UPSTREAM} mcp:admin`);
  const bob = () => login(user(card, 'bob'), `openid mcp:${UPSTREAM}`);

  async function m2mToken(scope: string): Promise<string> {
    const m2m = card.clients.m2m;
    assert.ok(m2m, 'the stack card has no M2M client');
    const answer = await tokenRequest(
      card,
      { grant_type: 'client_credentials', ...(scope ? { scope } : {}) },
      { authorization: basicAuth(m2m.clientId, m2m.clientSecret) },
    );
    assert.equal(answer.status, 200, `client_credentials: ${JSON.stringify(answer.body)}`);
    return String(answer.body.access_token);
  }

  describe('1. audience: a token is for one resource', () => {
    it(
      'a token for the built-in /mcp is refused at the upstream with 401 invalid_token',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const builtin = await login(user(card, 'bob'), 'openid mcp:tools');
        assert.ok(!audienceOf(builtin).includes(upstreamUrl), 'precondition: aud is the built-in /mcp only');
        const answer = await mcpPost(upstreamUrl, builtin, INITIALIZE);
        assert.equal(answer.status, 401, JSON.stringify(answer.body));
        assert.equal(answer.body.error, 'invalid_token');
        assert.equal(answer.headers.get('mcp-session-id'), null);
        assert.match(answer.challenge ?? '', new RegExp(`resource_metadata="${metadataUrl}"`));
      },
    );

    it(
      "the M2M client's token for the built-in tools (scope=mcp:tools, aud /mcp) is refused at the upstream",
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const answer = await mcpPost(upstreamUrl, await m2mToken('mcp:tools'), INITIALIZE);
        assert.equal(answer.status, 401, JSON.stringify(answer.body));
        assert.equal(answer.body.error, 'invalid_token');
      },
    );

    it(
      'an M2M token asked for no scope is for no MCP resource: refused at /mcp and at the upstream',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const token = await m2mToken('');
        const aud = audienceOf(token);
        assert.ok(!aud.includes(card.mcpUrl) && !aud.includes(upstreamUrl), `aud ${JSON.stringify(aud)}`);
        for (const url of [card.mcpUrl, upstreamUrl]) {
          const answer = await mcpPost(url, token, INITIALIZE);
          assert.equal(answer.status, 401, `${url}: ${JSON.stringify(answer.body)}`);
        }
      },
    );

    it(
      'WAY IN: an M2M token asked for scope=mcp:everything only ("for that upstream only") is accepted at the built-in /mcp',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        // docs/gateway.md: "grant_type=client_credentials&scope=mcp:everything gives a token for that upstream
        // only" and "A token issued for upstream A is refused at B, and at the built-in /mcp". Closed: mcp:tools
        // is an optional scope of every seeded client, so its audience comes only when asked for.
        const token = await m2mToken(`mcp:${UPSTREAM}`);
        assert.ok(!audienceOf(token).includes(card.mcpUrl), `aud ${JSON.stringify(audienceOf(token))}`);
        const answer = await mcpPost(card.mcpUrl, token, {
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'whoami', arguments: {} },
        });
        assert.equal(
          answer.status,
          401,
          `a token asked for the upstream only must be refused at /mcp; got HTTP ${answer.status}, aud ${JSON.stringify(audienceOf(token))}`,
        );
      },
    );

    it(
      'WAY IN: a user token asked for the upstream scope only is accepted at the built-in /mcp',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        // The host asked for `openid mcp:everything` (what the upstream's challenge names), through a client
        // whose MCP scopes are all optional as on the seeded ones: the token names the upstream only.
        const token = await bob();
        const aud = audienceOf(token);
        assert.ok(aud.includes(upstreamUrl) && !aud.includes(card.mcpUrl), `aud ${JSON.stringify(aud)}`);
        const answer = await mcpPost(card.mcpUrl, token, {
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'whoami', arguments: {} },
        });
        assert.equal(
          answer.status,
          401,
          `a token for ${upstreamUrl} must be refused at ${card.mcpUrl}; got HTTP ${answer.status}, aud ${JSON.stringify(audienceOf(token))}`,
        );
      },
    );

    it('no token: 401 naming the upstream metadata and scope', { timeout: TEST_TIMEOUT_MS }, async () => {
      const answer = await mcpPost(upstreamUrl, undefined, INITIALIZE);
      assert.equal(answer.status, 401);
      assert.match(answer.challenge ?? '', new RegExp(`resource_metadata="${metadataUrl}"`));
      assert.match(answer.challenge ?? '', new RegExp(`scope="[^"]*mcp:${UPSTREAM}`));
    });
  });

  describe('2. paths: no spelling reaches the upstream without a token', () => {
    const spellings = [
      `/mcp/${UPSTREAM}/`,
      `/mcp//${UPSTREAM}`,
      `//mcp/${UPSTREAM}`,
      `/mcp%2F${UPSTREAM}`,
      `/mcp%2f${UPSTREAM}`,
      `/mcp/%65verything`,
      `/MCP/${UPSTREAM}`,
      `/mcp/${UPSTREAM.toUpperCase()}`,
      `/mcp/${UPSTREAM}.`,
      `/mcp/${UPSTREAM};x`,
      `/mcp/./${UPSTREAM}`,
      `/mcp/x/../${UPSTREAM}`,
      `/mcp/${UPSTREAM}?a=1`,
      `/mcp/${UPSTREAM}%00`,
    ];
    it(
      'every spelling answers 401 or 404 to initialize and tools/call without a token',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const seen: string[] = [];
        for (const path of spellings) {
          for (const message of [
            INITIALIZE,
            {
              jsonrpc: '2.0',
              id: 1,
              method: 'tools/call',
              params: { name: 'get-env', arguments: {} },
            },
          ]) {
            const response = await timedFetch(`${origin}${path}`, {
              method: 'POST',
              headers: MCP_HEADERS,
              body: JSON.stringify(message),
            });
            const text = await response.text();
            seen.push(`${path} ${String(message.method)} → ${response.status}`);
            assert.ok(
              response.status === 401 || response.status === 404 || response.status === 400,
              `${path}: HTTP ${response.status} ${text.slice(0, 200)}`,
            );
            assert.equal(response.headers.get('mcp-session-id'), null, `${path} opened a session`);
            assert.ok(!text.includes('"result"'), `${path} answered a result: ${text.slice(0, 200)}`);
          }
        }
        assert.equal(seen.length, spellings.length * 2);
      },
    );

    it('GET and DELETE without a token open nothing', { timeout: TEST_TIMEOUT_MS }, async () => {
      const get = await timedFetch(upstreamUrl, { headers: { accept: 'text/event-stream' } });
      assert.equal(get.status, 405);
      await get.text();
      const del = await timedFetch(upstreamUrl, { method: 'DELETE', headers: { 'mcp-session-id': 'x' } });
      assert.equal(del.status, 401);
      await del.text();
    });
  });

  describe("3. sessions: another subject's Mcp-Session-Id opens nothing", () => {
    it(
      "bob presenting alice's session gets 404 on POST and DELETE, and alice's session lives on",
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const a = await McpSession.open(upstreamUrl, await alice());
        const list = await postMcp(
          upstreamUrl,
          { jsonrpc: '2.0', id: 7, method: 'tools/list' },
          { token: await bob(), sessionId: a.sessionId },
        );
        assert.equal(list.status, 404, list.text);
        const call = await postMcp(
          upstreamUrl,
          { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'get-env', arguments: {} } },
          { token: await bob(), sessionId: a.sessionId },
        );
        assert.equal(call.status, 404, call.text);
        const del = await timedFetch(upstreamUrl, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${await bob()}`, 'mcp-session-id': a.sessionId },
        });
        assert.equal(del.status, 404);
        await del.text();
        assert.ok((await a.toolNames()).includes('echo'), "alice's session must survive bob's DELETE");
      },
    );

    it(
      'an Mcp-Session-Id chosen by the caller on initialize is not adopted',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const chosen = 'attacker-chosen-session-id-0123456789';
        const answer = await mcpPost(upstreamUrl, await bob(), INITIALIZE, { 'mcp-session-id': chosen });
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        const issued = answer.headers.get('mcp-session-id');
        assert.ok(issued && issued !== chosen, `issued ${issued}`);
        const reuse = await postMcp(
          upstreamUrl,
          { jsonrpc: '2.0', id: 1, method: 'tools/list' },
          { token: await bob(), sessionId: chosen },
        );
        assert.equal(reuse.status, 404);
      },
    );

    it('a request without Mcp-Session-Id is refused with 400', { timeout: TEST_TIMEOUT_MS }, async () => {
      const answer = await mcpPost(upstreamUrl, await bob(), {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'echo', arguments: { message: 'x' } },
      });
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
    });

    it(
      "bob cannot cancel alice's request (cancellation names an id of his own session only)",
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const a = await McpSession.open(upstreamUrl, await alice());
        const b = await McpSession.open(upstreamUrl, await bob());
        const id = 'shared-request-id';
        const running = a.callTool('trigger-long-running-operation', { duration: 3, steps: 3 }, { id });
        await new Promise((resolve) => setTimeout(resolve, 500));
        const cancel = await b.notify('notifications/cancelled', { requestId: id, reason: 'attack' });
        assert.equal(cancel.status, 202);
        const onAlice = await postMcp(
          upstreamUrl,
          { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id } },
          { token: await bob(), sessionId: a.sessionId },
        );
        assert.equal(onAlice.status, 404);
        const outcome = await running;
        assert.equal(
          outcome.error,
          undefined,
          `alice's call was cancelled: ${JSON.stringify(outcome.error)}`,
        );
        assert.match(resultText(outcome.result), /complet/i);
      },
    );
  });

  describe('4. tool policy: denied and admin-only tools stay out of reach', () => {
    it(
      'bob: get-env is hidden and refused (-32003), in any spelling of the request',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const b = await McpSession.open(upstreamUrl, await bob());
        assert.ok(!(await b.toolNames()).includes('get-env'));
        const bodies = [
          '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get-env","arguments":{}}}',
          '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","name":"get-env","arguments":{}}}',
          '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get\\u002denv","arguments":{}}}',
          '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get-env"},"__proto__":{"x":1}}',
        ];
        for (const body of bodies) {
          const response = await timedFetch(upstreamUrl, {
            method: 'POST',
            headers: {
              ...MCP_HEADERS,
              authorization: `Bearer ${await bob()}`,
              'mcp-session-id': b.sessionId,
            },
            body,
          });
          const text = await response.text();
          assert.ok(!text.includes('"PATH"'), `${body} reached get-env: ${text.slice(0, 200)}`);
          assert.equal((JSON.parse(text) as { error?: { code: number } }).error?.code, FORBIDDEN, text);
        }
        for (const name of ['GET-ENV', 'get-env ', 'get_env', 'Get-Env']) {
          const { result, error } = await b.callTool(name);
          assert.ok(!resultText(result).includes('"PATH"'), `${name} ran get-env`);
          assert.ok(error || result?.isError === true || /not found/i.test(resultText(result)), name);
        }
      },
    );

    it('get-env as a notification or a batch does not run', { timeout: TEST_TIMEOUT_MS }, async () => {
      const b = await McpSession.open(upstreamUrl, await bob());
      const headers = {
        ...MCP_HEADERS,
        authorization: `Bearer ${await bob()}`,
        'mcp-session-id': b.sessionId,
      };
      const call = { jsonrpc: '2.0', method: 'tools/call', params: { name: 'get-env', arguments: {} } };
      const batch = await timedFetch(upstreamUrl, {
        method: 'POST',
        headers,
        body: JSON.stringify([{ ...call, id: 1 }]),
      });
      assert.equal(batch.status, 400);
      assert.ok(!(await batch.text()).includes('"PATH"'));
      const notification = await timedFetch(upstreamUrl, {
        method: 'POST',
        headers,
        body: JSON.stringify(call),
      });
      assert.equal(notification.status, 202);
      assert.equal(await notification.text(), '');
    });

    it(
      'alice (admin): gzip-file-as-resource is not offered, not even to an admin',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const a = await McpSession.open(upstreamUrl, await alice());
        assert.ok(!(await a.toolNames()).includes('gzip-file-as-resource'));
        const { error } = await a.callTool('gzip-file-as-resource', {
          name: 'x.gz',
          data: `${origin}/healthz`,
        });
        assert.equal(error?.code, FORBIDDEN, JSON.stringify(error));
      },
    );
  });

  describe("5. no token or gateway secret reaches the upstream's environment", () => {
    it('get-env as alice shows a minimal environment only', { timeout: TEST_TIMEOUT_MS }, async () => {
      const token = await alice();
      const a = await McpSession.open(upstreamUrl, token);
      const { result, error } = await a.callTool('get-env');
      assert.equal(error, undefined, JSON.stringify(error));
      const text = resultText(result);
      const env = JSON.parse(text) as Record<string, string>;
      const allowed = new Set(['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER']);
      const extra = Object.keys(env).filter((name) => !allowed.has(name));
      assert.deepEqual(extra, [], `the upstream sees more than a minimal environment: ${extra.join(', ')}`);
      const secrets: string[] = [token, token.split('.')[1] as string];
      if (card.valkeyUrl) {
        secrets.push(card.valkeyUrl);
        const password = decodeURIComponent(new URL(card.valkeyUrl).password);
        if (password) secrets.push(password);
      }
      for (const c of Object.values(card.clients ?? {}))
        if (c && typeof c === 'object' && 'clientSecret' in c && c.clientSecret)
          secrets.push(String(c.clientSecret));
      const secretsFile = JSON.parse(
        await readFile(stackCardPath().replace(/stack\.json$/, 'secrets.json'), 'utf8').catch(() => '{}'),
      ) as unknown;
      const walk = (value: unknown): void => {
        if (typeof value === 'string' && value.length >= 8) secrets.push(value);
        else if (value && typeof value === 'object') Object.values(value).forEach(walk);
      };
      walk(secretsFile);
      for (const secret of secrets)
        assert.ok(
          !text.includes(secret),
          `a secret (${secret.slice(0, 6)}…) is in the upstream's environment`,
        );
      assert.doesNotMatch(text, /redis:\/\/|KEYCLOAK|VALKEY|MCP_|Bearer /i);
    });
  });

  describe('6. what anybody can read', () => {
    it(
      '/readyz names no address of the upstream, Valkey or Keycloak',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const response = await timedFetch(`${origin}/readyz`);
        const text = await response.text();
        assert.ok(text.includes(UPSTREAM), `precondition: /readyz reports the upstream: ${text}`);
        assert.doesNotMatch(
          text,
          /https?:\/\/|redis:\/\/|127\.0\.0\.1|localhost|node_modules|[a-z0-9]:\d{2,5}\b/,
        );
      },
    );

    it(
      'the upstream metadata names its own resource, issuer and scopes only',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const response = await timedFetch(metadataUrl);
        assert.equal(response.status, 200);
        const metadata = (await response.json()) as Record<string, unknown>;
        assert.equal(metadata.resource, upstreamUrl);
        assert.deepEqual(metadata.authorization_servers, [card.issuer]);
        const scopes = metadata.scopes_supported as string[];
        assert.ok(scopes.includes(`mcp:${UPSTREAM}`));
        assert.ok(!scopes.includes('mcp:tools'), 'the built-in scope is not this resource');
        assert.doesNotMatch(JSON.stringify(metadata), /node_modules|stdio|command/);
      },
    );
  });

  describe('7. bodies', () => {
    it(
      'an oversized body gets 413 and never reaches the upstream',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const b = await McpSession.open(upstreamUrl, await bob());
        const response = await timedFetch(upstreamUrl, {
          method: 'POST',
          headers: { ...MCP_HEADERS, authorization: `Bearer ${await bob()}`, 'mcp-session-id': b.sessionId },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/call',
            params: { name: 'echo', arguments: { message: 'x'.repeat(3 * 1024 * 1024) } },
          }),
        }).catch((error: unknown) => error as Error);
        if (response instanceof Error) return; // the server closed the connection after its 413: also fine
        assert.equal(response.status, 413);
        await response.text();
      },
    );

    it('malformed JSON and non-objects get 400, not 5xx', { timeout: TEST_TIMEOUT_MS }, async () => {
      const b = await McpSession.open(upstreamUrl, await bob());
      for (const body of ['{', '"x"', '[]', 'null', '{"jsonrpc":"2.0","id":{},"method":"tools/list"}']) {
        const response = await timedFetch(upstreamUrl, {
          method: 'POST',
          headers: { ...MCP_HEADERS, authorization: `Bearer ${await bob()}`, 'mcp-session-id': b.sessionId },
          body,
        });
        assert.equal(response.status, 400, `${body}: ${await response.text()}`);
      }
    });
  });

  describe('8. processes: one user cannot take down another', () => {
    it(
      "WAY IN: other subjects filling maxProcesses stop alice's process while her call is running",
      { timeout: 600_000 },
      async () => {
        // Every user gets a process of their own (isolation: per-subject), at most maxProcesses; one more stops
        // the least recently used — judged by when its last call *started*, so a long call in flight is the
        // first to go. 20 other people logging in is an ordinary afternoon, not an attack budget.
        const a = await McpSession.open(upstreamUrl, await alice());
        const running = a.callTool(
          'trigger-long-running-operation',
          { duration: 40, steps: 4 },
          { timeoutMs: 120_000 },
        );
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        for (let i = 0; i < MAX_PROCESSES; i += 1) {
          const someone = await createThrowawayUser(card, cleanup);
          const token = await login(someone, `openid mcp:${UPSTREAM}`);
          await McpSession.open(upstreamUrl, token, 60_000);
        }
        const outcome = await running;
        assert.equal(
          outcome.error,
          undefined,
          `alice's running call was killed by other users' sessions: ${JSON.stringify(outcome.error)}`,
        );
        assert.match(resultText(outcome.result), /complet/i);
      },
    );
  });
});
