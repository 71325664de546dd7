// The imported realm (realm-export/mcp-realm.json) as MCP hosts meet it: anonymous DCR within the policies,
// PKCE required, implicit and password grants refused for public clients, offline sessions, built-in scopes kept.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pkcePair } from '../../src/doctor/http.ts';
import type { StackCard } from '../../src/stackCard.ts';
import { adminClient, loadStack } from './support/stack.ts';

describe('the imported mcp realm', { concurrency: false }, () => {
  let card: StackCard;
  let registered: { client_id: string; registration_client_uri: string; registration_access_token: string };
  const register = (body: Record<string, unknown>) =>
    fetch(`${card.issuer}/clients-registrations/openid-connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'realm e2e',
        token_endpoint_auth_method: 'none',
        response_types: ['code'],
        ...body,
      }),
    });

  before(async () => {
    card = await loadStack();
    // A host that also asks for the password and implicit grants is refused outright, naming the grant (the
    // registration policy, realm-export/README.md), rather than registered with them quietly switched off.
    const greedy = await register({
      redirect_uris: ['http://127.0.0.1:40111/callback'],
      grant_types: ['authorization_code', 'refresh_token', 'password', 'implicit'],
      response_types: ['code', 'token'],
      scope: 'openid mcp:tools offline_access',
    });
    assert.equal(greedy.status, 403, await greedy.clone().text());
    assert.match(await greedy.text(), /grant type (password|implicit) is not allowed/);
    const response = await register({
      redirect_uris: ['http://127.0.0.1:40111/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid mcp:tools offline_access',
    });
    assert.equal(response.status, 201, await response.clone().text());
    registered = (await response.json()) as typeof registered;
  });
  after(async () => {
    await fetch(registered.registration_client_uri, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${registered.registration_access_token}` },
    });
  });

  it('a dynamically registered public client has implicit and password grants off', async () => {
    const admin = await adminClient(card);
    const [client] = await admin.clients.find({ clientId: registered.client_id });
    assert.equal(client?.publicClient, true);
    assert.equal(client?.implicitFlowEnabled, false);
    assert.equal(client?.directAccessGrantsEnabled, false);
    assert.equal(client?.fullScopeAllowed, false);
    const bob = card.users.find((u) => u.username === 'bob');
    assert.ok(bob);
    const token = await fetch(`${card.issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: registered.client_id,
        username: bob.username,
        password: bob.password,
      }),
    });
    assert.equal(token.status >= 400, true);
    assert.equal(((await token.json()) as { access_token?: string }).access_token, undefined);
  });

  it('an implicit-flow request (response_type=token) is refused', async () => {
    const url = new URL(`${card.issuer}/protocol/openid-connect/auth`);
    url.search = new URLSearchParams({
      response_type: 'token',
      client_id: registered.client_id,
      redirect_uri: 'http://127.0.0.1:40111/callback',
      scope: 'openid',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    const location = response.headers.get('location') ?? '';
    assert.ok(response.status === 400 || /[?#&]error=/.test(location), `${response.status} ${location}`);
  });

  it('a plain code challenge is refused (S256 only)', async () => {
    const url = new URL(`${card.issuer}/protocol/openid-connect/auth`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: registered.client_id,
      redirect_uri: 'http://127.0.0.1:40111/callback',
      scope: 'openid',
      code_challenge: pkcePair().verifier,
      code_challenge_method: 'plain',
    }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    assert.match(response.headers.get('location') ?? '', /error=invalid_request/);
  });

  it("accepts the hosts' real registrations (VS Code's vscode.dev relay, client_uri on github.com)", async () => {
    const bodies = {
      vscode: {
        client_name: 'Visual Studio Code',
        client_uri: 'https://code.visualstudio.com',
        redirect_uris: [
          'https://insiders.vscode.dev/redirect',
          'https://vscode.dev/redirect',
          'http://localhost/',
          'http://127.0.0.1/',
          'http://localhost:33418/',
          'http://127.0.0.1:33418/',
        ],
        grant_types: ['authorization_code', 'refresh_token'],
      },
      inspector: {
        client_name: 'MCP Inspector',
        client_uri: 'https://github.com/modelcontextprotocol/inspector',
        redirect_uris: ['http://localhost:6274/oauth/callback/debug'],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid mcp:tools',
      },
      'mcp-remote': {
        client_name: 'MCP CLI Proxy',
        client_uri: 'https://github.com/modelcontextprotocol/mcp-cli',
        redirect_uris: ['http://localhost:41999/oauth/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
      },
    };
    for (const [host, body] of Object.entries(bodies)) {
      const response = await register(body);
      const created = (await response.json()) as Record<string, string>;
      assert.equal(response.status, 201, `${host}: ${JSON.stringify(created)}`);
      await fetch(created.registration_client_uri ?? '', {
        method: 'DELETE',
        headers: { authorization: `Bearer ${created.registration_access_token}` },
      });
    }
  });

  it('anonymous DCR refuses a non-loopback redirect URI and a scope off the allowed list (service_account)', async () => {
    const remote = await register({ redirect_uris: ['https://attacker.example/callback'] });
    assert.equal(remote.status, 403);
    const offList = await register({
      redirect_uris: ['http://127.0.0.1:40112/cb'],
      scope: 'openid service_account',
    });
    assert.equal(offList.status, 403);
  });

  it("anonymous DCR accepts every scope Keycloak's discovery lists (what older clients, e.g. Claude Code 2.1.98, register with)", async () => {
    const discovery = (await (await fetch(`${card.issuer}/.well-known/openid-configuration`)).json()) as {
      scopes_supported: string[];
    };
    // service_account is Keycloak's own (client-credentials clients); hidden from discovery, off the DCR list.
    assert.ok(!discovery.scopes_supported.includes('service_account'), discovery.scopes_supported.join(' '));
    const response = await register({
      redirect_uris: ['http://localhost:40114/callback'],
      token_endpoint_auth_method: 'none',
      scope: discovery.scopes_supported.join(' '),
    });
    const client = (await response.json()) as typeof registered;
    assert.equal(response.status, 201, JSON.stringify(client));
    await fetch(client.registration_client_uri, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${client.registration_access_token}` },
    });
  });

  it("anonymous DCR accepts every scope of the MCP server's metadata (mcp:admin too: the role gates it)", async () => {
    // What MCP Inspector v2 sends: the server's scopes_supported plus offline_access.
    const response = await register({
      redirect_uris: ['http://127.0.0.1:40113/cb'],
      token_endpoint_auth_method: 'none',
      scope: 'mcp:tools mcp:admin offline_access',
    });
    assert.equal(response.status, 201);
    const client = (await response.json()) as typeof registered & { scope?: string };
    await fetch(client.registration_client_uri, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${client.registration_access_token}` },
    });
    assert.deepEqual(client.scope?.split(' ').sort(), ['mcp:admin', 'mcp:tools', 'offline_access']);
  });

  it('keeps the built-in client scopes and lists mcp:tools for hosts', async () => {
    const metadata = (await (await fetch(`${card.issuer}/.well-known/openid-configuration`)).json()) as {
      scopes_supported: string[];
    };
    for (const scope of ['openid', 'profile', 'email', 'offline_access', 'mcp:tools', 'mcp:admin']) {
      assert.ok(metadata.scopes_supported.includes(scope), scope);
    }
    const admin = await adminClient(card);
    const names = (await admin.clientScopes.find()).map((s) => s.name);
    for (const scope of ['basic', 'roles', 'web-origins', 'acr']) assert.ok(names.includes(scope), scope);
  });
});
