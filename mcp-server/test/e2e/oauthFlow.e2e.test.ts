// The whole MCP authorization flow against the real stack (Keycloak + Valkey + this MCP server), as an MCP
// host performs it: MCP authorization spec 2025-11-25, RFC 9728, RFC 8414, RFC 7591, RFC 7636, RFC 6750.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { discoverAuthorizationServerMetadata } from '@modelcontextprotocol/sdk/client/auth.js';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { CookieJar } from './support/cookieJar.ts';
import { authorizationCodeUrl, createPkcePair, loginThroughBrowserForm } from './support/keycloakLogin.ts';
import { startLoopbackCallback, type LoopbackCallback } from './support/loopbackCallback.ts';
import { postMcp } from '../integration/support/mcpHttp.ts';
import { connectWithToken, toolJson } from './support/mcpClient.ts';
import { freePort, startMcpServer } from './support/mcpServerProcess.ts';
import { decodeJwtPayload, loadStack, user } from './support/stack.ts';
import { clientCredentialsToken, postForm, type TokenResponse } from './support/tokens.ts';

interface AsMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  registration_endpoint?: string;
  code_challenge_methods_supported?: string[];
}

describe('MCP OAuth flow on the real stack', { concurrency: false }, () => {
  let card: StackCard;
  let callback: LoopbackCallback;
  let resourceMetadataUrl: string;
  let authorizationServer: string;
  let metadata: AsMetadata;
  let clientId: string;
  let tokens: TokenResponse;
  const jar = new CookieJar();

  before(async () => {
    card = await loadStack();
    callback = await startLoopbackCallback();
  });
  after(async () => {
    await callback?.close();
  });

  it('1. POST /mcp without a token → 401 with WWW-Authenticate: Bearer resource_metadata (MCP auth §Protected Resource Metadata Discovery, RFC 9728 §5.1)', async () => {
    const response = await fetch(card.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(response.status, 401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer /);
    const match = /resource_metadata="([^"]+)"/.exec(challenge);
    assert.ok(match?.[1], `no resource_metadata in ${challenge}`);
    assert.doesNotMatch(challenge, /error=/, 'no error code when no token was sent (RFC 6750 §3.1)');
    resourceMetadataUrl = match[1];
    assert.equal(resourceMetadataUrl, card.resourceMetadataUrl);
  });

  it('2. discovery: protected resource metadata → authorization server metadata from Keycloak (RFC 9728 §3, RFC 8414)', async () => {
    const prm = (await (await fetch(resourceMetadataUrl)).json()) as {
      resource: string;
      authorization_servers: string[];
    };
    assert.equal(prm.resource, card.mcpUrl);
    assert.deepEqual(prm.authorization_servers, [card.issuer]);
    authorizationServer = prm.authorization_servers[0] as string;
    // The SDK's own discovery: tries the RFC 8414 and OIDC well-known URLs in the order the spec gives.
    const found = await discoverAuthorizationServerMetadata(authorizationServer);
    assert.ok(found, 'Keycloak published no authorization server metadata');
    metadata = found as unknown as AsMetadata;
    assert.equal(metadata.issuer, card.issuer);
    assert.ok(metadata.registration_endpoint, 'no registration_endpoint: DCR is off');
    assert.ok(metadata.code_challenge_methods_supported?.includes('S256'));
  });

  /** Anonymous DCR of a public client with the loopback redirect, as an MCP host does; asserts 201. */
  async function registerHost(clientName: string, scope: string): Promise<Record<string, unknown>> {
    const response = await fetch(metadata.registration_endpoint as string, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: clientName,
        redirect_uris: [callback.redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        scope,
      }),
    });
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(response.status, 201, JSON.stringify(body));
    return body;
  }

  it('3. dynamic client registration of a public client with a loopback redirect (RFC 7591)', async () => {
    const body = await registerHost('e2e MCP host', 'openid offline_access mcp:tools');
    assert.equal(typeof body.client_id, 'string');
    assert.equal(body.client_secret, undefined, 'a public client gets no secret');
    clientId = body.client_id as string;
  });

  it("4–5. authorization code + PKCE S256 through Keycloak's login form as alice, then the token exchange (OAuth 2.1 §4.1, RFC 7636)", async () => {
    const alice = user(card, 'alice');
    const pkce = createPkcePair();
    const state = crypto.randomUUID();
    const authorizationUrl = authorizationCodeUrl(metadata.authorization_endpoint, {
      clientId,
      redirectUri: callback.redirectUri,
      scope: 'openid mcp:tools',
      state,
      challenge: pkce.challenge,
      resource: card.mcpUrl,
    });
    const result = await loginThroughBrowserForm({ authorizationUrl, ...alice, callback, jar });
    assert.equal(result.state, state);
    assert.equal(result.iss, card.issuer, 'RFC 9207 iss in the authorization response');

    tokens = (await postForm(metadata.token_endpoint, {
      grant_type: 'authorization_code',
      code: result.code,
      redirect_uri: callback.redirectUri,
      client_id: clientId,
      code_verifier: pkce.verifier,
      resource: card.mcpUrl,
    })) as unknown as TokenResponse;
    const claims = decodeJwtPayload(tokens.access_token);
    assert.equal(claims.iss, card.issuer);
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    assert.ok(aud.includes(card.mcpUrl), `aud ${JSON.stringify(claims.aud)} lacks ${card.mcpUrl}`);
    assert.equal(claims.preferred_username, 'alice');
    assert.match(String(claims.scope), /(^| )mcp:tools( |$)/);
  });

  it('4b. PKCE is enforced for public clients: an authorization request without code_challenge is refused', async () => {
    const url = authorizationCodeUrl(metadata.authorization_endpoint, {
      clientId,
      redirectUri: callback.redirectUri,
      scope: 'openid mcp:tools',
    });
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
    const location = new URL(response.headers.get('location') ?? 'http://invalid/');
    assert.equal(response.status, 302);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    assert.equal(location.searchParams.get('code'), null);
  });

  it('6. MCP initialize, tools/list, tools/call whoami with the SDK client → alice', async () => {
    const client = await connectWithToken(card.mcpUrl, tokens.access_token);
    try {
      const listed = await client.listTools();
      const names = listed.tools.map((t) => t.name).sort();
      assert.ok(names.includes('whoami') && names.includes('usage'), names.join(','));
      const whoami = toolJson(await client.callTool({ name: 'whoami', arguments: {} }));
      reportColdStart(card);
      assert.equal(whoami.username, 'alice');
      assert.equal(whoami.clientId, clientId);
      assert.equal(whoami.subject, decodeJwtPayload(tokens.access_token).sub);
      assert.ok((whoami.scopes as string[]).includes('mcp:tools'));
    } finally {
      await client.close();
    }
  });

  it("6b. a host that registers with the scopes it wants (the SDK takes them from scopes_supported) keeps the user's role: alice runs the admin tool", async () => {
    // Keycloak gives a client registered with `scope` only those client scopes plus `basic` — not `roles`,
    // whose mapper wrote realm_access — so reset_usage was refused for an mcp-admin.
    // realm-export/: mcp:admin carries the realm-role mapper itself.
    const scopedClient = (await registerHost('e2e MCP host asking for scopes', 'mcp:tools mcp:admin'))
      .client_id as string;
    const loginAs = async (who: 'alice' | 'bob', cookies: CookieJar) => {
      const pkce = createPkcePair();
      const { code } = await loginThroughBrowserForm({
        authorizationUrl: authorizationCodeUrl(metadata.authorization_endpoint, {
          clientId: scopedClient,
          redirectUri: callback.redirectUri,
          scope: 'mcp:tools mcp:admin',
          challenge: pkce.challenge,
          resource: card.mcpUrl,
        }),
        ...user(card, who),
        callback,
        jar: cookies,
      });
      return (await postForm(metadata.token_endpoint, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: callback.redirectUri,
        client_id: scopedClient,
        code_verifier: pkce.verifier,
        resource: card.mcpUrl,
      })) as unknown as TokenResponse;
    };
    const admin = await loginAs('alice', jar);
    const claims = decodeJwtPayload(admin.access_token) as {
      scope?: string;
      realm_access?: { roles?: string[] };
    };
    assert.match(String(claims.scope), /(^| )mcp:admin( |$)/);
    assert.ok(
      claims.realm_access?.roles?.includes('mcp-admin'),
      `realm_access: ${JSON.stringify(claims.realm_access)}`,
    );
    const client = await connectWithToken(card.mcpUrl, admin.access_token);
    try {
      // Not alice's own count: step 7 counts on from it.
      const subject = `e2e-nobody-${crypto.randomUUID()}`;
      const reset = await client.callTool({ name: 'reset_usage', arguments: { subject } });
      assert.notEqual(reset.isError, true, JSON.stringify(reset.content));
      assert.equal(toolJson(reset).subject, subject);
    } finally {
      await client.close();
    }
    // The mapper gives roles the user has, nothing more: bob (no mcp-admin) on the same client gets neither the
    // scope nor the role, and the admin tool refuses him.
    const bob = await loginAs('bob', new CookieJar());
    const bobClaims = decodeJwtPayload(bob.access_token) as {
      scope?: string;
      realm_access?: { roles?: string[] };
    };
    assert.doesNotMatch(String(bobClaims.scope), /mcp:admin/);
    assert.ok(!bobClaims.realm_access?.roles?.includes('mcp-admin'), JSON.stringify(bobClaims.realm_access));
    const refused = await postMcp(
      card.mcpUrl,
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'reset_usage', arguments: { subject: 'e2e-nobody' } },
      },
      { token: bob.access_token },
    );
    assert.equal(refused.status, 403);
  });

  it('7. usage counts live in Valkey and survive a restart of the MCP server', async () => {
    const port = await freePort();
    let server = await startMcpServer(card, port);
    const usage = async () => {
      const client = await connectWithToken(`${server.baseUrl}/mcp`, tokens.access_token);
      try {
        return Number(toolJson(await client.callTool({ name: 'usage', arguments: {} })).count);
      } finally {
        await client.close();
      }
    };
    try {
      const first = await usage();
      assert.ok(first >= 2, `whoami was counted before, so the count is at least 2 (got ${first})`);
      assert.equal(await usage(), first + 1);
      await server.stop();
      server = await startMcpServer(card, port);
      assert.equal(await usage(), first + 2, 'the count continued after the restart');
    } finally {
      await server.stop();
    }
  });

  it('8a. a real Keycloak token for another audience → 401 invalid_token (RFC 8707 intent, MCP auth §Token Audience Binding)', async () => {
    const pkce = createPkcePair();
    const url = authorizationCodeUrl(metadata.authorization_endpoint, {
      clientId,
      redirectUri: callback.redirectUri,
      scope: 'openid', // without mcp:tools the audience mapper does not run
      challenge: pkce.challenge,
    });
    // alice's Keycloak session (cookies) answers without the form, as in a browser.
    const { code } = await loginThroughBrowserForm({
      authorizationUrl: url,
      ...user(card, 'alice'),
      callback,
      jar,
    });
    const other = (await postForm(metadata.token_endpoint, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: callback.redirectUri,
      client_id: clientId,
      code_verifier: pkce.verifier,
    })) as unknown as TokenResponse;
    const aud = decodeJwtPayload(other.access_token).aud;
    assert.ok(
      !JSON.stringify(aud ?? null).includes(card.mcpUrl),
      'precondition: token lacks the MCP audience',
    );
    await assertRejected(card.mcpUrl, other.access_token, /invalid_token/);
  });

  it('8b. a tampered token (payload changed, signature kept) → 401 invalid_token (RFC 6750 §3.1)', async () => {
    const [header, payload, signature] = tokens.access_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    claims.preferred_username = 'mallory';
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    await assertRejected(card.mcpUrl, forged, /invalid_token/);
    await assertRejected(card.mcpUrl, 'not-a-jwt', /invalid_token/);
  });

  it('8c. an expired real token → 401 invalid_token (a server with no clock tolerance, a 5 s token)', async () => {
    const { createShortLivedClient } = await import('./support/keycloakAdmin.ts');
    const shortLived = await createShortLivedClient(card, 5);
    const server = await startMcpServer(card, await freePort(), {
      OIDC_CLOCK_TOLERANCE_SECONDS: '0',
      // Its tokens are a service account's: accepted only when the client is listed.
      OIDC_SERVICE_ACCOUNT_CLIENTS: shortLived.clientId,
    });
    try {
      const token = await clientCredentialsToken(metadata.token_endpoint, shortLived, 'mcp:tools');
      const client = await connectWithToken(`${server.baseUrl}/mcp`, token.access_token);
      await client.close(); // accepted while fresh
      const expiresAt = Number(decodeJwtPayload(token.access_token).exp) * 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 1500));
      await assertRejected(`${server.baseUrl}/mcp`, token.access_token, /invalid_token/);
    } finally {
      await server.stop();
      await shortLived.remove();
    }
  });

  it("9. the M2M client's client_credentials token can call tools", async () => {
    const m2m = card.clients.m2m;
    assert.ok(m2m, 'the seed wrote no M2M client into the stack card');
    const token = await clientCredentialsToken(metadata.token_endpoint, m2m, 'mcp:tools');
    const client = await connectWithToken(card.mcpUrl, token.access_token);
    try {
      const whoami = toolJson(await client.callTool({ name: 'whoami', arguments: {} }));
      assert.equal(whoami.clientId, m2m.clientId);
      assert.ok((whoami.scopes as string[]).includes('mcp:tools'));
    } finally {
      await client.close();
    }
  });
});

async function assertRejected(mcpUrl: string, token: string, error: RegExp): Promise<void> {
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  assert.equal(response.status, 401);
  const challenge = response.headers.get('www-authenticate') ?? '';
  assert.match(challenge, error);
  assert.match(challenge, /resource_metadata="/);
}

let coldStartReported = false;
/** Launcher start → first authenticated tool call, when this test run started the stack itself. */
function reportColdStart(card: StackCard): void {
  if (coldStartReported || !card.startedAt) return;
  coldStartReported = true;
  const startup = ((card.startupMs ?? 0) / 1000).toFixed(1);
  if (process.env.MCP_STACK_STARTED_BY_TEST === '1') {
    const total = ((Date.now() - Date.parse(card.startedAt)) / 1000).toFixed(1);
    console.log(
      `# cold start: ${total}s from launcher start to the first authenticated tool call (stack ready after ${startup}s)`,
    );
  } else {
    console.log(`# stack reused (it had started in ${startup}s); cold start not measured in this run`);
  }
}
