// Attack replay: what anonymous client registration let an outsider (no account) create. Both registration
// endpoints of the realm — RFC 7591 (`openid-connect`) and Keycloak's own format (`default`) — must refuse
// (4xx) every registration below. Where one gets through anyway, the defence-in-depth cases follow it to the
// MCP server and assert that the resulting token does not pass as someone else there.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT, generateKeyPair } from 'jose';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { startLoopbackCallback, type LoopbackCallback } from '../e2e/support/loopbackCallback.ts';
import { loadStack } from '../e2e/support/stack.ts';
import {
  callTool,
  Cleanup,
  createThrowawayUser,
  described,
  endpoints,
  hostRegistration,
  keycloakAdmin,
  loginWithCode,
  registerAnonymously,
  type Registration,
  startTrap,
  TEST_TIMEOUT_MS,
  timedFetch,
  tokenRequest,
} from './support/attackKit.ts';

function assertRefused(registration: Registration, what: string): void {
  assert.ok(
    registration.status >= 400 && registration.status < 500,
    `${what} must be refused with 4xx, got ${described(registration)}`,
  );
  assert.equal(registration.clientId, undefined, `${what}: no client may be created`);
}

describe('attack: anonymous client registration', { concurrency: false, timeout: 900_000 }, () => {
  let card: StackCard;
  let callback: LoopbackCallback;
  let aliceSubject: string;
  const cleanup = new Cleanup(() => card);

  before(async () => {
    card = await loadStack();
    callback = await startLoopbackCallback();
    const admin = await keycloakAdmin(card);
    const [alice] = await admin.users.find({ username: 'alice', exact: true });
    if (!alice?.id) throw new Error('the realm has no alice');
    aliceSubject = alice.id;
  });
  after(async () => {
    await cleanup.run();
    await callback?.close();
  });

  const loopback = () => [callback.redirectUri];

  /** One attack that must end at the door: register `body` anonymously on `format`; 4xx, no client. */
  function refusedRegistration(
    title: string,
    format: 'default' | 'openid-connect',
    body: () => Record<string, unknown>,
    what: string,
  ): void {
    it(title, { timeout: TEST_TIMEOUT_MS }, async () => {
      assertRefused(await registerAnonymously(card, format, body(), cleanup), what);
    });
  }

  describe('1. forged identity through the Keycloak-format (default) endpoint', () => {
    refusedRegistration(
      'a chosen internal client `id` is refused',
      'default',
      () => ({ id: `attack-chosen-${crypto.randomUUID()}`, redirectUris: loopback(), publicClient: true }),
      'a registration choosing the internal id',
    );

    refusedRegistration(
      'free `attributes` are refused',
      'default',
      () => ({
        redirectUris: loopback(),
        publicClient: true,
        attributes: { 'attacker.chosen': 'x', 'pkce.code.challenge.method': 'plain' },
      }),
      'a registration with free attributes',
    );

    const mappers: [string, Record<string, unknown>][] = [
      [
        'oidc-usermodel-attribute-mapper writing `sub`',
        {
          name: 'forge-sub',
          protocol: 'openid-connect',
          protocolMapper: 'oidc-usermodel-attribute-mapper',
          config: {
            'user.attribute': 'firstName',
            'claim.name': 'sub',
            'jsonType.label': 'String',
            'access.token.claim': 'true',
          },
        },
      ],
      [
        'oidc-hardcoded-claim-mapper writing `azp`',
        {
          name: 'forge-azp',
          protocol: 'openid-connect',
          protocolMapper: 'oidc-hardcoded-claim-mapper',
          config: {
            'claim.name': 'azp',
            'claim.value': 'mcp-m2m',
            'jsonType.label': 'String',
            'access.token.claim': 'true',
          },
        },
      ],
      [
        'oidc-usermodel-property-mapper writing `realm_access`',
        {
          name: 'forge-roles',
          protocol: 'openid-connect',
          protocolMapper: 'oidc-usermodel-property-mapper',
          config: {
            'user.attribute': 'lastName',
            'claim.name': 'realm_access.roles',
            'jsonType.label': 'String',
            'access.token.claim': 'true',
          },
        },
      ],
    ];
    for (const [name, mapper] of mappers) {
      refusedRegistration(
        `protocol mapper ${name} is refused`,
        'default',
        () => ({ redirectUris: loopback(), publicClient: true, protocolMappers: [mapper] }),
        `a registration with ${name}`,
      );
    }

    it(
      'defence in depth: a token from a client with a `sub`-writing mapper does not pass as alice on the MCP server (whoami)',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const reg = await registerAnonymously(
          card,
          'default',
          {
            redirectUris: loopback(),
            publicClient: true,
            optionalClientScopes: ['mcp:tools'],
            protocolMappers: [mappers[0]?.[1]],
          },
          cleanup,
        );
        if (reg.status >= 400) return; // refused at the door: nothing to follow
        assert.ok(reg.clientId, described(reg));
        // The attacker's own account: the first name is what a user may edit in the account console.
        const attacker = await createThrowawayUser(card, cleanup, { firstName: aliceSubject });
        const tokens = await loginWithCode(card, {
          clientId: reg.clientId,
          callback,
          credentials: attacker,
          scope: 'openid mcp:tools',
        });
        const whoami = await callTool(card, String(tokens.access_token), 'whoami');
        if (whoami.status !== 200) return; // the MCP server refused the token: also fine
        assert.notEqual(
          whoami.body.result?.structuredContent?.subject,
          aliceSubject,
          'the MCP server took a throwaway user for alice (sub written by a self-registered mapper)',
        );
      },
    );

    it(
      'additional probe: a self-registered mapper overwriting `scope` and `realm_access` does not make a user an MCP admin (reset_usage)',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const reg = await registerAnonymously(
          card,
          'default',
          {
            redirectUris: loopback(),
            publicClient: true,
            optionalClientScopes: ['mcp:tools'],
            protocolMappers: [
              {
                name: 'forge-scope',
                protocol: 'openid-connect',
                protocolMapper: 'oidc-usermodel-attribute-mapper',
                config: {
                  'user.attribute': 'firstName',
                  'claim.name': 'scope',
                  'jsonType.label': 'String',
                  'access.token.claim': 'true',
                },
              },
              {
                name: 'forge-role',
                protocol: 'openid-connect',
                protocolMapper: 'oidc-usermodel-attribute-mapper',
                config: {
                  'user.attribute': 'lastName',
                  'claim.name': 'realm_access.roles',
                  'jsonType.label': 'String',
                  multivalued: 'true',
                  'access.token.claim': 'true',
                },
              },
            ],
          },
          cleanup,
        );
        if (reg.status >= 400) return;
        assert.ok(reg.clientId, described(reg));
        const attacker = await createThrowawayUser(card, cleanup, {
          firstName: 'mcp:tools mcp:admin',
          lastName: 'mcp-admin',
        });
        const tokens = await loginWithCode(card, {
          clientId: reg.clientId,
          callback,
          credentials: attacker,
          scope: 'openid mcp:tools',
        });
        const reset = await callTool(card, String(tokens.access_token), 'reset_usage', {
          subject: aliceSubject,
        });
        assert.notEqual(
          reset.status,
          200,
          `a user without the mcp-admin role ran reset_usage: ${JSON.stringify(reset.body).slice(0, 300)}`,
        );
      },
    );
  });

  describe('2. privilege upgrade by token exchange', () => {
    refusedRegistration(
      'a registration whose clientId is the MCP URL is refused',
      'default',
      () => ({ clientId: card.mcpUrl, redirectUris: loopback(), publicClient: false }),
      'a registration named after the MCP URL',
    );

    refusedRegistration(
      'a registration with attribute standard.token.exchange.enabled is refused',
      'default',
      () => ({
        redirectUris: loopback(),
        publicClient: false,
        attributes: { 'standard.token.exchange.enabled': 'true' },
      }),
      'a registration enabling token exchange',
    );

    refusedRegistration(
      'an RFC 7591 registration with the token-exchange grant type is refused',
      'openid-connect',
      () => ({
        client_name: 'attack token exchange',
        redirect_uris: loopback(),
        grant_types: ['urn:ietf:params:oauth:grant-type:token-exchange', 'authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'mcp:tools mcp:admin',
      }),
      'a registration asking for token exchange',
    );
  });

  describe('3. access with no user', () => {
    it(
      'an RFC 7591 confidential client with client_credentials is refused',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const reg = await registerAnonymously(
          card,
          'openid-connect',
          {
            client_name: 'attack m2m',
            redirect_uris: loopback(),
            grant_types: ['client_credentials'],
            token_endpoint_auth_method: 'client_secret_basic',
            scope: 'mcp:tools',
          },
          cleanup,
        );
        if (reg.status < 300 && typeof reg.body.client_secret === 'string' && reg.clientId) {
          // Show what it gave: a token for the MCP server without any user.
          const token = await tokenRequest(card, {
            grant_type: 'client_credentials',
            client_id: reg.clientId,
            client_secret: reg.body.client_secret,
            scope: 'mcp:tools',
          });
          const whoami = await callTool(card, String(token.body.access_token ?? 'none'), 'whoami');
          assert.fail(
            `registered (${reg.status}); its service-account token got HTTP ${whoami.status} from the MCP server`,
          );
        }
        assertRefused(reg, 'a client_credentials registration');
      },
    );

    refusedRegistration(
      'an RFC 7591 client with the password grant is refused',
      'openid-connect',
      () => ({
        client_name: 'attack ropc',
        redirect_uris: loopback(),
        grant_types: ['password'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'mcp:tools',
      }),
      'a password-grant registration',
    );

    refusedRegistration(
      'additional way in: a Keycloak-format confidential client with serviceAccountsEnabled is refused',
      'default',
      () => ({
        redirectUris: loopback(),
        publicClient: false,
        serviceAccountsEnabled: true,
        defaultClientScopes: ['mcp:tools'],
      }),
      'a service-account registration in Keycloak format',
    );

    refusedRegistration(
      'additional way in: a Keycloak-format confidential client with directAccessGrantsEnabled is refused',
      'default',
      () => ({
        redirectUris: loopback(),
        publicClient: false,
        directAccessGrantsEnabled: true,
        defaultClientScopes: ['mcp:tools'],
      }),
      'a password-grant registration in Keycloak format',
    );
  });

  describe('4. redirect URIs outside the MCP hosts', () => {
    const refused: [string, string][] = [
      ['a path on github.com', 'https://github.com/attacker/repo/issues/1'],
      ['a vscode.dev path other than /redirect', 'https://vscode.dev/attacker'],
      ['a vscode.dev URI that only starts with /redirect', 'https://vscode.dev/redirect/../attacker'],
      ['code.visualstudio.com', 'https://code.visualstudio.com/callback'],
      ['a foreign host', 'https://evil.example/callback'],
      ['a private non-loopback address', 'http://10.0.0.1/callback'],
    ];
    for (const [name, uri] of refused) {
      refusedRegistration(
        `redirect URI on ${name} is refused (${uri})`,
        'openid-connect',
        () => hostRegistration('attack redirect', [uri]),
        `a redirect URI ${uri}`,
      );
    }

    it(
      'control: a VS Code-style registration (loopback + exactly https://vscode.dev/redirect) still succeeds',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const reg = await registerAnonymously(
          card,
          'openid-connect',
          {
            client_name: 'Visual Studio Code',
            redirect_uris: ['http://127.0.0.1:33418/', 'https://vscode.dev/redirect'],
            token_endpoint_auth_method: 'none',
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
          },
          cleanup,
        );
        assert.equal(reg.status, 201, described(reg));
      },
    );
  });

  describe('5. tokens that outlive logout', () => {
    refusedRegistration(
      'a Keycloak-format registration with attribute access.token.lifespan is refused',
      'default',
      () => ({
        redirectUris: loopback(),
        publicClient: true,
        attributes: { 'access.token.lifespan': '36000' },
      }),
      'a registration choosing its token lifespan',
    );

    refusedRegistration(
      'a Keycloak-format registration choosing session idle timeouts beyond the realm ones is refused',
      'default',
      () => ({
        redirectUris: loopback(),
        publicClient: true,
        attributes: {
          'client.session.idle.timeout': '31536000',
          'client.offline.session.idle.timeout': '31536000',
        },
      }),
      'a registration choosing its session lifespans',
    );
  });

  describe('additional ways in: URLs Keycloak itself calls (server-side request forgery)', () => {
    refusedRegistration(
      'a jwks_uri on a non-trusted, non-loopback host is refused',
      'openid-connect',
      () => ({
        redirect_uris: loopback(),
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: 'http://10.0.0.1:6379/jwks',
      }),
      'a jwks_uri on 10.0.0.1',
    );

    refusedRegistration(
      'a backchannel_logout_uri on a non-trusted host is refused',
      'openid-connect',
      () => ({
        redirect_uris: loopback(),
        token_endpoint_auth_method: 'none',
        backchannel_logout_uri: 'http://10.0.0.1:7800/',
      }),
      'a backchannel_logout_uri on 10.0.0.1',
    );

    refusedRegistration(
      'post_logout_redirect_uris on a foreign host are refused (open redirect after logout)',
      'openid-connect',
      () => ({
        redirect_uris: loopback(),
        token_endpoint_auth_method: 'none',
        post_logout_redirect_uris: ['https://evil.example/'],
      }),
      'a post-logout redirect to evil.example',
    );

    it(
      'an anonymous registration never makes Keycloak fetch a sector_identifier_uri of the registrant',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const trap = await startTrap();
        try {
          await registerAnonymously(
            card,
            'openid-connect',
            {
              redirect_uris: loopback(),
              token_endpoint_auth_method: 'none',
              subject_type: 'pairwise',
              sector_identifier_uri: `${trap.url}/sector`,
            },
            cleanup,
          );
          assert.deepEqual(trap.hits, [], 'Keycloak called the registrant-chosen URL');
        } finally {
          await trap.close();
        }
      },
    );

    it(
      'a registered jwks_uri is never fetched by Keycloak on an attacker-triggered token request',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const trap = await startTrap();
        try {
          const reg = await registerAnonymously(
            card,
            'openid-connect',
            {
              redirect_uris: loopback(),
              grant_types: ['authorization_code'],
              token_endpoint_auth_method: 'private_key_jwt',
              jwks_uri: `${trap.url}/jwks`,
            },
            cleanup,
          );
          if (reg.clientId) {
            const { privateKey } = await generateKeyPair('RS256');
            const now = Math.floor(Date.now() / 1000);
            const assertion = await new SignJWT({})
              .setProtectedHeader({ alg: 'RS256', kid: 'attacker' })
              .setIssuer(reg.clientId)
              .setSubject(reg.clientId)
              .setAudience(card.issuer)
              .setJti(crypto.randomUUID())
              .setIssuedAt(now)
              .setExpirationTime(now + 60)
              .sign(privateKey);
            await tokenRequest(card, {
              grant_type: 'authorization_code',
              code: 'x',
              redirect_uri: callback.redirectUri,
              client_id: reg.clientId,
              client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
              client_assertion: assertion,
            });
          }
          assert.deepEqual(
            trap.hits,
            [],
            `Keycloak fetched the registrant's jwks_uri (${endpoints(card).token})`,
          );
        } finally {
          await trap.close();
        }
      },
    );
  });
  describe('consent-screen phishing: a name Keycloak would replace with one of its own', () => {
    for (const field of ['client_name', 'description'] as const) {
      refusedRegistration(
        `a ${field} with a message key (\${client_account-console} shows as "Account Console") is refused`,
        'openid-connect',
        () =>
          hostRegistration(
            field === 'client_name' ? '${client_account-console}' : 'attack phishing',
            loopback(),
            field === 'description' ? { description: '${client_account-console}' } : {},
          ),
        `a ${field} with a message placeholder`,
      );
    }
  });

  describe('additional ways in: unbounded sizes (a few anonymous requests exhaust Keycloak)', () => {
    // Evidence (Keycloak 26.7.3, -Xmx768m, -XX:+ExitOnOutOfMemoryError): 80 anonymous registrations with a
    // 9 MB logo_uri each were all accepted (201); the next listing of the realm's clients — what the janitor
    // does every 10 minutes and on start — ran Keycloak out of heap, Keycloak exited and the launcher stopped
    // the whole stack. The rows stay in the database, so after a restart the janitor's first run kills it again.
    // Keycloak's own 10 MB body limit is the only bound; the policy checks URL shape, never length or count.
    const ONE_MB = 1_000_000;
    const oversized: [string, Record<string, unknown>][] = [
      ['a 1 MB logo_uri', { logo_uri: `https://logo.example/${'a'.repeat(ONE_MB)}` }],
      ['a 1 MB policy_uri', { policy_uri: `https://policy.example/${'a'.repeat(ONE_MB)}` }],
      ['a 1 MB tos_uri', { tos_uri: `https://tos.example/${'a'.repeat(ONE_MB)}` }],
      [
        'a 1 MB loopback post_logout_redirect_uri',
        { post_logout_redirect_uris: [`http://127.0.0.1/${'a'.repeat(ONE_MB)}`] },
      ],
      [
        '10 000 loopback redirect URIs',
        { redirect_uris: Array.from({ length: 10_000 }, (_, n) => `http://127.0.0.1/cb${n}`) },
      ],
    ];
    for (const [name, extra] of oversized) {
      refusedRegistration(
        `a registration with ${name} is refused`,
        'openid-connect',
        () => hostRegistration('attack oversize', loopback(), extra),
        `a registration with ${name}`,
      );
    }

    it(
      'an update with the registration access token cannot grow a client to 1 MB either',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const metadata = hostRegistration('attack oversize update', loopback());
        const reg = await registerAnonymously(card, 'openid-connect', metadata, cleanup);
        assert.ok(reg.clientId && reg.registrationAccessToken, described(reg));
        const update = await timedFetch(`${endpoints(card).registrationOidc}/${reg.clientId}`, {
          method: 'PUT',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${reg.registrationAccessToken}`,
          },
          body: JSON.stringify({
            ...metadata,
            client_id: reg.clientId,
            logo_uri: `https://logo.example/${'a'.repeat(ONE_MB)}`,
          }),
        });
        const text = await update.text();
        assert.ok(
          update.status >= 400 && update.status < 500,
          `an update to a 1 MB logo_uri must be refused with 4xx, got HTTP ${update.status} ${text.slice(0, 200)}`,
        );
      },
    );
  });
});
