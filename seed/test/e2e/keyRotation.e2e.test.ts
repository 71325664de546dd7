// Signing-key rotation with `npm run seed -- keys rotate|retire`, on a realm imported for this test and an MCP
// server process verifying against it (JWKS cache max age 1 s, token cache off, so "removed" shows quickly):
// the server accepts tokens of the new key without restart, old tokens while their key is published, and
// refuses them once it is removed.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  freePort,
  startMcpServer,
  type McpServerProcess,
} from '@mcp-keycloak-stack/mcp-server/test/e2e/support/mcpServerProcess';
import { decodeJwt } from '../../src/doctor/http.ts';
import { listSigningKeys } from '../../src/keys/signingKeys.ts';
import type { StackCard } from '../../src/stackCard.ts';
import { runSeed } from './support/run.ts';
import { importRealm, loadStack, type ExtraRealm } from './support/stack.ts';

describe('signing-key rotation (npm run seed -- keys …)', { concurrency: false }, () => {
  let card: StackCard;
  let realm: ExtraRealm;
  let server: McpServerProcess;
  let client: { clientId: string; clientSecret: string };

  const token = async () => {
    const response = await fetch(`${realm.issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        scope: 'mcp:tools', // optional, as on the seeded M2M client: the token is for /mcp only when asked
      }),
    });
    const body = (await response.json()) as { access_token?: string };
    assert.ok(body.access_token, JSON.stringify(body));
    return body.access_token;
  };
  const kid = (t: string) => decodeJwt(t).header.kid as string;
  const call = async (t: string) => {
    const response = await fetch(`${server.baseUrl}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${t}`,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'rotation', version: '1' },
        },
      }),
    });
    await response.text();
    return response.status;
  };
  const keys = (args: string[]) => runSeed(['keys', ...args], { KEYCLOAK_REALM: realm.name });

  before(async () => {
    card = await loadStack();
    realm = await importRealm(card, 'rotation');
    const clientId = 'rotation-m2m';
    const { id } = await realm.admin.clients.create({
      clientId,
      publicClient: false,
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
    });
    const optional = await realm.admin.clients.listOptionalClientScopes({ id });
    assert.ok(
      optional.some((s) => s.name === 'mcp:tools'),
      'mcp:tools is a realm default optional scope (realm-export/mcp-realm.json)',
    );
    client = { clientId, clientSecret: (await realm.admin.clients.getClientSecret({ id })).value ?? '' };
    server = await startMcpServer(card, await freePort(), {
      OIDC_ISSUER: realm.issuer,
      OIDC_JWKS_URL: `${realm.issuer}/protocol/openid-connect/certs`,
      OIDC_JWKS_CACHE_MAX_AGE_SECONDS: '1',
      OIDC_JWKS_COOLDOWN_SECONDS: '0',
      OIDC_TOKEN_CACHE_SIZE: '0',
      // Its tokens are a service account's: accepted only from a listed client.
      OIDC_SERVICE_ACCOUNT_CLIENTS: clientId,
    });
  });
  after(async () => {
    await server?.stop();
    await realm?.remove();
  });

  it('rotate: new tokens use the new key and are accepted without restart; old tokens stay valid', async () => {
    const old = await token();
    assert.equal(await call(old), 200);
    const before = await listSigningKeys(realm.admin, realm.name);
    const rotated = await keys(['rotate']);
    assert.equal(rotated.code, 0, rotated.output);
    assert.match(rotated.output, /new signing key \S+ \(priority \d+\)/);
    const after = await listSigningKeys(realm.admin, realm.name);
    assert.equal(after.length, before.length + 1);
    assert.ok(after[0] && after[0].priority > Math.max(...before.map((k) => k.priority)));

    const fresh = await token();
    assert.equal(kid(fresh), after[0]?.kid);
    assert.notEqual(kid(fresh), kid(old));
    assert.equal(await call(fresh), 200, 'a token of the new key is accepted by the running server');
    assert.equal(await call(old), 200, 'a token of the old key is accepted while the key is published');

    const retired = await keys(['retire']);
    assert.equal(retired.code, 0, retired.output);
    assert.match(retired.output, new RegExp(`removed .*${kid(old)}`));
    const left = await listSigningKeys(realm.admin, realm.name);
    assert.deepEqual(
      left.map((k) => k.kid),
      [kid(fresh)],
    );

    // The server still holds the old key until its JWKS cache (1 s here) expires; then it refetches and refuses.
    let status = await call(old);
    for (let i = 0; i < 40 && status === 200; i += 1) {
      await sleep(500);
      status = await call(old);
    }
    assert.equal(status, 401, 'a token of a removed key is refused');
    assert.equal(await call(fresh), 200);
    assert.equal(await call(await token()), 200);
  });

  it('keys with an unknown sub-command: a clear message and exit 1', async () => {
    const result = await keys(['spin']);
    assert.equal(result.code, 1);
    assert.match(result.output, /unknown keys command "spin"/);
  });
});
