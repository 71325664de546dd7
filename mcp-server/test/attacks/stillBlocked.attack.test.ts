// Attack replay, the part that did NOT get in: these must stay refused. bob reaching mcp:admin, forged and
// confused JWTs, tokens of other issuers/audiences, cross-user JSON-RPC interference, CORS and DNS
// rebinding, request smuggling, huge tokens, tokens outside the Authorization header, and a registration
// access token used on another client.
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, type JsonWebKey as NodeJsonWebKey } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { adminLogin } from '@mcp-keycloak-stack/seed/adminLogin';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { startLoopbackCallback, type LoopbackCallback } from '../e2e/support/loopbackCallback.ts';
import { decodeJwtPayload, loadAdminCredentials, loadStack, user } from '../e2e/support/stack.ts';
import { createAdminCapableClient } from '../integration/support/realmAdmin.ts';
import {
  callTool,
  Cleanup,
  described,
  endpoints,
  hostRegistration,
  loginWithCode,
  MCP_HEADERS,
  mcpPost,
  NETWORK_TIMEOUT_MS,
  registerAnonymously,
  startTrap,
  TEST_TIMEOUT_MS,
  timedFetch,
  tokenRequest,
  within,
} from './support/attackKit.ts';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function hs256(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret: Buffer | string,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function scopesOf(token: unknown): string[] {
  if (typeof token !== 'string') return [];
  return String(decodeJwtPayload(token).scope ?? '')
    .split(' ')
    .filter(Boolean);
}

/** One HTTP/1.1 request with headers fetch will not send (Host), bounded by the timeout. */
function rawRequest(
  url: URL,
  options: { method: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname === 'localhost' ? '127.0.0.1' : url.hostname,
        port: Number(url.port || 80),
        path: url.pathname + url.search,
        method: options.method,
        headers: options.headers,
        timeout: NETWORK_TIMEOUT_MS,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Writes raw bytes to the MCP port and collects everything the server answers until it closes or goes quiet. */
async function rawExchange(url: URL, bytes: string): Promise<string> {
  const socket = connect({
    host: url.hostname === 'localhost' ? '127.0.0.1' : url.hostname,
    port: Number(url.port || 80),
  });
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  const closed = new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.once('error', () => resolve());
  });
  socket.write(bytes);
  await Promise.race([closed, sleep(3_000)]);
  socket.destroy();
  return received;
}

describe('attack: still blocked (keep it so)', { concurrency: false, timeout: 900_000 }, () => {
  let card: StackCard;
  let callback: LoopbackCallback;
  let client: { clientId: string; remove(): Promise<void> } | undefined;
  let alice: Record<string, unknown>;
  let bob: Record<string, unknown>;
  let aliceToken: string;
  let forgedClaims: Record<string, unknown>;
  let realKid: string;
  let publishedJwks: { keys: (NodeJsonWebKey & { kid?: string; use?: string; alg?: string })[] };
  const cleanup = new Cleanup(() => card);

  function login(username: 'alice' | 'bob', scope: string) {
    if (!client) throw new Error('no login client');
    return loginWithCode(card, {
      clientId: client.clientId,
      callback,
      credentials: user(card, username),
      scope,
    });
  }

  before(async () => {
    card = await loadStack();
    callback = await startLoopbackCallback();
    client = await createAdminCapableClient(card, callback.redirectUri);
    alice = await login('alice', 'openid mcp:tools');
    bob = await login('bob', 'openid mcp:tools');
    aliceToken = String(alice.access_token);
    const now = Math.floor(Date.now() / 1000);
    forgedClaims = {
      ...decodeJwtPayload(aliceToken),
      iat: now,
      exp: now + 300,
      scope: 'openid mcp:tools mcp:admin',
    };
    const header = JSON.parse(Buffer.from(aliceToken.split('.')[0] ?? '', 'base64url').toString()) as {
      kid: string;
    };
    realKid = header.kid;
    publishedJwks = (await (
      await timedFetch(card.jwksUrl ?? endpoints(card).certs)
    ).json()) as typeof publishedJwks;
  });
  after(async () => {
    await client?.remove().catch(() => {});
    await cleanup.run();
    await callback?.close();
  });

  async function assertRefused(token: string, what: string): Promise<void> {
    const answer = await callTool(card, token, 'whoami');
    assert.equal(
      answer.status,
      401,
      `${what}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`,
    );
  }

  describe('bob never gets mcp:admin', () => {
    it('asking for mcp:admin in the authorization request', { timeout: TEST_TIMEOUT_MS }, async () => {
      const token = String((await login('bob', 'openid mcp:tools mcp:admin')).access_token);
      assert.ok(!scopesOf(token).includes('mcp:admin'));
      const reset = await callTool(card, token, 'reset_usage', { subject: 'nobody' });
      assert.equal(reset.status, 403);
    });

    it(
      'asking for mcp:admin at the token endpoint (refresh_token grant with that scope)',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const refreshed = await tokenRequest(card, {
          grant_type: 'refresh_token',
          refresh_token: String(bob.refresh_token),
          client_id: client?.clientId ?? '',
          scope: 'openid mcp:tools mcp:admin',
        });
        assert.ok(
          !scopesOf(refreshed.body.access_token).includes('mcp:admin'),
          JSON.stringify(refreshed.body).slice(0, 200),
        );
        if (typeof refreshed.body.access_token === 'string') {
          const reset = await callTool(card, refreshed.body.access_token, 'reset_usage', {
            subject: 'nobody',
          });
          assert.equal(reset.status, 403);
        }
        if (typeof refreshed.body.refresh_token === 'string')
          bob.refresh_token = refreshed.body.refresh_token;
      },
    );

    it(
      'a refresh with a wider scope than the grant (openid → openid mcp:tools mcp:admin)',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const narrow = await login('bob', 'openid');
        const refreshed = await tokenRequest(card, {
          grant_type: 'refresh_token',
          refresh_token: String(narrow.refresh_token),
          client_id: client?.clientId ?? '',
          scope: 'openid mcp:tools mcp:admin',
        });
        assert.ok(!scopesOf(refreshed.body.access_token).includes('mcp:admin'));
      },
    );
  });

  describe('algorithm confusion and key tricks', () => {
    it(
      'HS256 signed with the RSA public key (PEM, JWK JSON, modulus) → 401',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const jwk = publishedJwks.keys.find((k) => k.kid === realKid);
        assert.ok(jwk, 'the signing key is published');
        const pem = createPublicKey({ key: jwk, format: 'jwk' })
          .export({ type: 'spki', format: 'pem' })
          .toString();
        const secrets: [string, Buffer | string][] = [
          ['PEM', pem],
          ['PEM without trailing newline', pem.trimEnd()],
          ['JWK JSON', JSON.stringify(jwk)],
          ['modulus', Buffer.from(String(jwk.n), 'base64url')],
        ];
        for (const [name, secret] of secrets) {
          await assertRefused(
            hs256({ alg: 'HS256', typ: 'JWT', kid: realKid }, forgedClaims, secret),
            `HS256/${name}`,
          );
        }
      },
    );

    it('alg "none" → 401', { timeout: TEST_TIMEOUT_MS }, async () => {
      for (const alg of ['none', 'None', 'NONE']) {
        await assertRefused(`${b64({ alg, typ: 'JWT', kid: realKid })}.${b64(forgedClaims)}.`, `alg ${alg}`);
      }
    });

    it(
      'a key named by the token itself (embedded jwk, jku, x5u) is never used or fetched → 401',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
        const attackerJwk = { ...(await exportJWK(publicKey)), kid: 'attacker', alg: 'RS256', use: 'sig' };
        const trap = await startTrap({ keys: [attackerJwk] });
        try {
          const sign = (header: Record<string, unknown>) =>
            new SignJWT(forgedClaims)
              .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...header })
              .sign(privateKey);
          await assertRefused(await sign({ kid: 'attacker', jwk: attackerJwk }), 'embedded jwk');
          await assertRefused(await sign({ kid: 'attacker', jku: `${trap.url}/jwks` }), 'jku');
          await assertRefused(await sign({ kid: 'attacker', x5u: `${trap.url}/x5u` }), 'x5u');
          assert.deepEqual(trap.hits, [], 'the MCP server fetched a key URL named in a token');
        } finally {
          await trap.close();
        }
      },
    );

    it(
      'kid tricks: path traversal, the real kid with another key, the kid of another published key → 401',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { privateKey } = await generateKeyPair('RS256');
        const sign = (kid: string) =>
          new SignJWT(forgedClaims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(privateKey);
        await assertRefused(
          hs256({ alg: 'HS256', typ: 'JWT', kid: '../../../../../../dev/null' }, forgedClaims, ''),
          'kid ../dev/null',
        );
        await assertRefused(await sign('../../../../../../etc/passwd'), 'kid traversal, RS256');
        await assertRefused(await sign("' OR '1'='1"), 'kid injection');
        await assertRefused(await sign(realKid), 'the real kid, another key');
        for (const other of publishedJwks.keys.filter((k) => k.kid && k.kid !== realKid)) {
          await assertRefused(
            await sign(String(other.kid)),
            `kid of another published key (${other.use ?? '?'})`,
          );
        }
      },
    );
  });

  describe('tokens for somebody else', () => {
    it(
      'a foreign issuer: a real token of the master realm, and a forged iss → 401',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        // Through adminLogin: the suites log the admin in at once, and Keycloak refuses overlapping logins.
        const master = new KcAdminClient({ baseUrl: card.keycloakUrl, realmName: 'master' });
        await adminLogin(master, await loadAdminCredentials());
        const masterToken = await master.getAccessToken();
        assert.equal(typeof masterToken, 'string');
        await assertRefused(String(masterToken), 'master realm token');
        const { privateKey } = await generateKeyPair('RS256');
        const forged = await new SignJWT({ ...forgedClaims, iss: 'https://evil.example/realms/mcp' })
          .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: realKid })
          .sign(privateKey);
        await assertRefused(forged, 'foreign iss');
      },
    );

    it(
      'a real token of this realm without the MCP audience → 401',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        // A client whose scopes are all optional (anonymous DCR), asked for `openid` only: no audience mapper runs.
        const reg = await registerAnonymously(
          card,
          'openid-connect',
          hostRegistration('attack other audience', [callback.redirectUri]),
          cleanup,
        );
        assert.ok(reg.clientId, described(reg));
        const tokens = await loginWithCode(card, {
          clientId: reg.clientId,
          callback,
          credentials: user(card, 'alice'),
          scope: 'openid',
        });
        const token = String(tokens.access_token);
        const aud = decodeJwtPayload(token).aud;
        assert.ok(!(Array.isArray(aud) ? aud : [aud]).includes(card.mcpUrl), 'precondition');
        await assertRefused(token, 'wrong audience');
      },
    );

    it('a refresh token as bearer → 401', { timeout: TEST_TIMEOUT_MS }, async () => {
      await assertRefused(String(alice.refresh_token), 'refresh token');
    });
  });

  describe('two users on one server', () => {
    it(
      'bob cancelling or colliding with JSON-RPC ids does not touch alice’s calls',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const bobToken = String(bob.access_token);
        const aliceSub = decodeJwtPayload(aliceToken).sub;
        const bobSub = decodeJwtPayload(bobToken).sub;
        for (let round = 0; round < 10; round += 1) {
          const [a, b, cancel] = await Promise.all([
            callTool(card, aliceToken, 'whoami', {}, 7),
            callTool(card, bobToken, 'whoami', {}, 7),
            mcpPost(card.mcpUrl, bobToken, {
              jsonrpc: '2.0',
              method: 'notifications/cancelled',
              params: { requestId: 7, reason: 'attack' },
            }),
          ]);
          assert.equal(a.status, 200, JSON.stringify(a.body));
          assert.equal(b.status, 200, JSON.stringify(b.body));
          assert.equal(a.body.id, 7);
          assert.equal(b.body.id, 7);
          assert.equal(a.body.result?.structuredContent?.subject, aliceSub);
          assert.equal(b.body.result?.structuredContent?.subject, bobSub);
          assert.ok(cancel.status === 202 || cancel.status === 200, `cancel: ${cancel.status}`);
        }
      },
    );
  });

  describe('browsers and HTTP', () => {
    it(
      'CORS preflight from an untrusted origin gets no Access-Control-Allow-Origin',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const response = await timedFetch(card.mcpUrl, {
          method: 'OPTIONS',
          headers: {
            origin: 'https://evil.example',
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization, content-type, mcp-protocol-version',
          },
        });
        await response.body?.cancel();
        assert.equal(response.headers.get('access-control-allow-origin'), null);
        assert.ok(response.status >= 400, `preflight answered ${response.status}`);
      },
    );

    it(
      'DNS rebinding: Host and Origin of another site with a valid token → 403',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const url = new URL(card.mcpUrl);
        const answer = await rawRequest(url, {
          method: 'POST',
          headers: {
            ...MCP_HEADERS,
            host: `evil.example:${url.port}`,
            origin: `http://evil.example:${url.port}`,
            authorization: `Bearer ${aliceToken}`,
          },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/call',
            params: { name: 'whoami', arguments: {} },
          }),
        });
        assert.equal(answer.status, 403, answer.body.slice(0, 200));
        assert.doesNotMatch(answer.body, /"subject"/);
      },
    );

    it(
      'request smuggling: conflicting Content-Length / Transfer-Encoding → 400, the smuggled request is not served',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const url = new URL(card.mcpUrl);
        const smuggled = `GET /healthz HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`;
        const attempts = [
          `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
          `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\n${smuggled}`,
          `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${smuggled}`,
        ];
        for (const bytes of attempts) {
          const received = await rawExchange(url, bytes);
          const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
          assert.deepEqual(
            statuses,
            ['400'],
            `answers: ${statuses.join(', ')} to ${JSON.stringify(bytes.slice(0, 120))}`,
          );
        }
      },
    );

    it('a 100 kB token → 4xx, not 5xx', { timeout: TEST_TIMEOUT_MS }, async () => {
      const huge = `${b64({ alg: 'RS256', typ: 'JWT', kid: realKid })}.${b64({ pad: 'x'.repeat(100_000) })}.${'A'.repeat(342)}`;
      let status: number;
      try {
        status = (await callTool(card, huge, 'whoami')).status;
      } catch {
        // The server may reset the connection on an oversized header: not a 5xx either, but check it is alive.
        status = 431;
      }
      assert.ok(status >= 400 && status < 500, `HTTP ${status}`);
      const health = await timedFetch(card.mcpHealthUrl ?? new URL('/healthz', card.mcpUrl));
      await health.body?.cancel();
      assert.equal(health.status, 200);
    });

    it(
      'a token in the query string or in the JSON body is ignored (401)',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const query = new URL(card.mcpUrl);
        query.searchParams.set('access_token', aliceToken);
        const inQuery = await mcpPost(query.href, undefined, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
        assert.equal(inQuery.status, 401);
        const inBody = await mcpPost(card.mcpUrl, undefined, {
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/list',
          access_token: aliceToken,
          params: { access_token: aliceToken, _meta: { authorization: `Bearer ${aliceToken}` } },
        });
        assert.equal(inBody.status, 401);
        const form = await within(
          timedFetch(card.mcpUrl, {
            method: 'POST',
            headers: { ...MCP_HEADERS, 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ access_token: aliceToken }),
          }),
          NETWORK_TIMEOUT_MS,
          'form body',
        );
        await form.body?.cancel();
        assert.equal(form.status, 401);
      },
    );
  });

  it(
    'a registration access token of client A used on client B → 401/403, B untouched',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const metadata = hostRegistration('attack RAT cross use', ['http://127.0.0.1/callback']);
      const a = await registerAnonymously(card, 'openid-connect', metadata, cleanup);
      const b = await registerAnonymously(card, 'openid-connect', metadata, cleanup);
      assert.ok(a.registrationAccessToken && b.clientId, `${described(a)} / ${described(b)}`);
      const url = `${endpoints(card).registrationOidc}/${b.clientId}`;
      const auth = { authorization: `Bearer ${a.registrationAccessToken}` };
      const read = await timedFetch(url, { headers: auth });
      await read.body?.cancel();
      assert.ok(read.status === 401 || read.status === 403, `read B with A's RAT: ${read.status}`);
      const update = await timedFetch(url, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          ...metadata,
          client_id: b.clientId,
          redirect_uris: ['http://127.0.0.1/evil'],
        }),
      });
      await update.body?.cancel();
      assert.ok(update.status === 401 || update.status === 403, `update B with A's RAT: ${update.status}`);
      const remove = await timedFetch(url, { method: 'DELETE', headers: auth });
      await remove.body?.cancel();
      assert.ok(remove.status === 401 || remove.status === 403, `delete B with A's RAT: ${remove.status}`);
    },
  );
});
