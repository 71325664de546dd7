// Attack replay: tokens the MCP server must not accept, or accept for less than was asked — token exchange
// into mcp:admin, service accounts off the allow-list, tokens longer-lived than the realm's 300 s, ID and
// refresh tokens as bearer, and `scp` smuggled next to `scope`. Real Keycloak tokens, the real MCP server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { createShortLivedClient } from '../e2e/support/keycloakAdmin.ts';
import { startLoopbackCallback, type LoopbackCallback } from '../e2e/support/loopbackCallback.ts';
import { decodeJwtPayload, loadStack, user } from '../e2e/support/stack.ts';
import { clientCredentialsToken } from '../e2e/support/tokens.ts';
import { createAdminCapableClient } from '../integration/support/realmAdmin.ts';
import {
  Cleanup,
  TEST_TIMEOUT_MS,
  basicAuth,
  callTool,
  endpoints,
  keycloakAdmin,
  loginWithCode,
  registerAnonymously,
  tokenRequest,
} from './support/attackKit.ts';

/** The realm's access-token lifespan (realm-export: accessTokenLifespan). */
const REALM_ACCESS_TOKEN_LIFESPAN_SECONDS = 300;

function scopesOf(token: unknown): string[] {
  if (typeof token !== 'string') return [];
  return String(decodeJwtPayload(token).scope ?? '')
    .split(' ')
    .filter(Boolean);
}

describe('attack: tokens', { concurrency: false, timeout: 900_000 }, () => {
  let card: StackCard;
  let callback: LoopbackCallback;
  let client: { clientId: string; remove(): Promise<void> } | undefined;
  const cleanup = new Cleanup(() => card);

  before(async () => {
    card = await loadStack();
    callback = await startLoopbackCallback();
    client = await createAdminCapableClient(card, callback.redirectUri);
  });
  after(async () => {
    await client?.remove().catch(() => {});
    await cleanup.run();
    await callback?.close();
  });

  function login(username: 'alice' | 'bob', scope: string) {
    if (!client) throw new Error('no login client');
    return loginWithCode(card, {
      clientId: client.clientId,
      callback,
      credentials: user(card, username),
      scope,
    });
  }

  describe('2. privilege upgrade by token exchange', () => {
    it(
      "a user's mcp:tools token cannot be exchanged into mcp:admin at the token endpoint",
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const subject = String((await login('alice', 'openid mcp:tools')).access_token);
        assert.ok(
          !scopesOf(subject).includes('mcp:admin'),
          'precondition: the subject token has no mcp:admin',
        );
        // Requesters an attacker can get: a self-registered confidential client named after the MCP URL (in the
        // subject token's audience) with token exchange on, and — an insider's one — the seeded M2M client.
        const requesters: { clientId: string; secret: string }[] = [];
        const registered = await registerAnonymously(
          card,
          'default',
          {
            clientId: card.mcpUrl,
            publicClient: false,
            redirectUris: [callback.redirectUri],
            attributes: { 'standard.token.exchange.enabled': 'true' },
            optionalClientScopes: ['mcp:tools', 'mcp:admin'],
          },
          cleanup,
        );
        if (registered.clientId && typeof registered.body.secret === 'string') {
          requesters.push({ clientId: registered.clientId, secret: registered.body.secret });
        }
        if (card.clients.m2m) {
          requesters.push({ clientId: card.clients.m2m.clientId, secret: card.clients.m2m.clientSecret });
        }
        for (const requester of requesters) {
          const exchanged = await tokenRequest(
            card,
            {
              grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
              subject_token: subject,
              subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
              requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
              scope: 'mcp:tools mcp:admin',
              audience: card.mcpUrl,
            },
            { authorization: basicAuth(requester.clientId, requester.secret) },
          );
          const token = exchanged.body.access_token;
          if (scopesOf(token).includes('mcp:admin')) {
            assert.fail(
              `${requester.clientId} exchanged alice's mcp:tools token into ${String(decodeJwtPayload(String(token)).scope)}`,
            );
          }
          if (typeof token === 'string') {
            const reset = await callTool(card, token, 'reset_usage', { subject: 'nobody' });
            assert.notEqual(reset.status, 200, `an exchanged token ran reset_usage (${requester.clientId})`);
          }
        }
      },
    );

    it(
      "reset_usage with bob's token (asking for mcp:admin) stays forbidden (403)",
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const token = String((await login('bob', 'openid mcp:tools mcp:admin')).access_token);
        assert.ok(!scopesOf(token).includes('mcp:admin'));
        const reset = await callTool(card, token, 'reset_usage', { subject: 'nobody' });
        assert.equal(reset.status, 403, JSON.stringify(reset.body));
      },
    );
  });

  describe('3. access with no user', () => {
    it(
      'a service-account token of a confidential client NOT on the allow-list is refused by the MCP server (401)',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        // An insider's misconfiguration: a confidential client made in the admin console with mcp:tools by default.
        const insider = await createShortLivedClient(card, REALM_ACCESS_TOKEN_LIFESPAN_SECONDS);
        try {
          const token = await clientCredentialsToken(endpoints(card).token, insider, 'mcp:tools');
          const aud = decodeJwtPayload(token.access_token).aud;
          assert.ok(
            (Array.isArray(aud) ? aud : [aud]).includes(card.mcpUrl),
            'precondition: the token is for the MCP server',
          );
          const whoami = await callTool(card, token.access_token, 'whoami');
          assert.equal(
            whoami.status,
            401,
            `the MCP server accepted ${insider.clientId}: ${JSON.stringify(whoami.body).slice(0, 200)}`,
          );
          assert.match(whoami.challenge ?? '', /invalid_token/);
        } finally {
          await insider.remove();
        }
      },
    );

    it('the seeded M2M client (clients.m2m) is still accepted', { timeout: TEST_TIMEOUT_MS }, async () => {
      const m2m = card.clients.m2m;
      assert.ok(m2m, 'the stack card names no M2M client');
      const token = await clientCredentialsToken(endpoints(card).token, m2m, 'mcp:tools');
      const whoami = await callTool(card, token.access_token, 'whoami');
      assert.equal(whoami.status, 200, JSON.stringify(whoami.body));
      assert.equal(whoami.body.result?.structuredContent?.clientId, m2m.clientId);
    });
  });

  describe('5. tokens that outlive logout', () => {
    it(
      `a token whose exp - iat exceeds the realm's access-token lifespan (${REALM_ACCESS_TOKEN_LIFESPAN_SECONDS} s) is refused (401)`,
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        // The insider's change is made on the allow-listed M2M client, so that only the lifetime can be the reason.
        const m2m = card.clients.m2m;
        assert.ok(m2m, 'the stack card names no M2M client');
        const admin = await keycloakAdmin(card);
        const [rep] = await admin.clients.find({ clientId: m2m.clientId });
        assert.ok(rep?.id);
        const id = rep.id;
        const original = rep.attributes?.['access.token.lifespan'] as string | undefined;
        const restore = async () => {
          const fresh = await keycloakAdmin(card);
          const current = await fresh.clients.findOne({ id });
          if (!current) return;
          const attributes = { ...(current.attributes ?? {}) };
          if (original === undefined) attributes['access.token.lifespan'] = '';
          else attributes['access.token.lifespan'] = original;
          await fresh.clients.update({ id }, { ...current, attributes });
        };
        cleanup.restore(restore);
        let token: string;
        try {
          await admin.clients.update(
            { id },
            { ...rep, attributes: { ...(rep.attributes ?? {}), 'access.token.lifespan': '36000' } },
          );
          token = (await clientCredentialsToken(endpoints(card).token, m2m, 'mcp:tools')).access_token;
        } finally {
          await restore();
        }
        const claims = decodeJwtPayload(token);
        assert.ok(
          Number(claims.exp) - Number(claims.iat) > REALM_ACCESS_TOKEN_LIFESPAN_SECONDS,
          'precondition: Keycloak issued a long-lived token',
        );
        const whoami = await callTool(card, token, 'whoami');
        assert.equal(
          whoami.status,
          401,
          `a 10-hour token was accepted: ${JSON.stringify(whoami.body).slice(0, 200)}`,
        );
        assert.match(whoami.challenge ?? '', /invalid_token/);
      },
    );
  });

  describe('6. tokens that are not access tokens', () => {
    let tokens: Record<string, unknown>;
    before(async () => {
      tokens = await login('alice', 'openid mcp:tools');
    });

    it(
      'an ID token as bearer → 401 with WWW-Authenticate invalid_token (not 403)',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        assert.equal(typeof tokens.id_token, 'string', 'precondition: the login returned an ID token');
        const whoami = await callTool(card, String(tokens.id_token), 'whoami');
        assert.equal(whoami.status, 401);
        assert.match(whoami.challenge ?? '', /error="invalid_token"/);
      },
    );

    it('a refresh token as bearer → 401', { timeout: TEST_TIMEOUT_MS }, async () => {
      assert.equal(typeof tokens.refresh_token, 'string');
      const whoami = await callTool(card, String(tokens.refresh_token), 'whoami');
      assert.equal(whoami.status, 401);
      assert.match(whoami.challenge ?? '', /invalid_token/);
    });

    it(
      'a token carrying `scp` (mcp:tools, mcp:admin) beside a `scope` without them gains no scope (never 200)',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        // Keycloak always writes `scope`; the closest it issues to "scp but no MCP scope" is an insider's client
        // with a hardcoded `scp` claim and the MCP audience, but no MCP scope.
        const admin = await keycloakAdmin(card);
        const clientId = `attack-scp-${crypto.randomUUID().slice(0, 8)}`;
        const { id } = await admin.clients.create({
          clientId,
          publicClient: false,
          serviceAccountsEnabled: true,
          standardFlowEnabled: false,
          protocolMappers: [
            {
              name: 'scp',
              protocol: 'openid-connect',
              protocolMapper: 'oidc-hardcoded-claim-mapper',
              config: {
                'claim.name': 'scp',
                'claim.value': '["mcp:tools","mcp:admin"]',
                'jsonType.label': 'JSON',
                'access.token.claim': 'true',
              },
            },
            {
              name: 'mcp audience',
              protocol: 'openid-connect',
              protocolMapper: 'oidc-audience-mapper',
              config: { 'included.custom.audience': card.mcpUrl, 'access.token.claim': 'true' },
            },
          ],
        });
        cleanup.client(clientId);
        const secret = (await admin.clients.getClientSecret({ id })).value ?? '';
        const token = (
          await clientCredentialsToken(endpoints(card).token, { clientId, clientSecret: secret }, '')
        ).access_token;
        const claims = decodeJwtPayload(token);
        assert.deepEqual(claims.scp, ['mcp:tools', 'mcp:admin'], 'precondition: the token carries scp');
        assert.ok(!scopesOf(token).includes('mcp:tools'), 'precondition: its scope has no mcp:tools');
        const whoami = await callTool(card, token, 'whoami');
        assert.ok(
          whoami.status === 401 || whoami.status === 403,
          `scp opened the door: HTTP ${whoami.status}`,
        );
        const reset = await callTool(card, token, 'reset_usage', { subject: 'nobody' });
        assert.ok(
          reset.status === 401 || reset.status === 403,
          `scp opened reset_usage: HTTP ${reset.status}`,
        );
      },
    );
  });
});
