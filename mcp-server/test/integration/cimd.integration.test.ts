// Client ID metadata documents (Keycloak's experimental `cimd` feature, docs/cimd.md) against the running stack:
// the authorization server metadata advertises them; an https client_id on a trusted host makes Keycloak fetch the
// document (served here over HTTPS with a certificate of the test CA it trusts) and create the client it describes,
// under the same rules as anonymous DCR (public, PKCE, loopback redirect URIs, consent); the MCP TypeScript SDK
// client logs in with its clientMetadataUrl instead of registering. Bad documents — not JSON, oversized,
// redirecting, naming foreign redirect URIs, confidential, off the scope allow-list — and a document that turns bad
// at its refresh get Keycloak's error page (400, never a 500) and leave the realm as it was. MCP authorization
// 2025-11-25 "Client ID Metadata Documents"; draft-ietf-oauth-client-id-metadata-document.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import {
  CIMD_POLICY,
  KEYCLOAK_CIMD_CONDITION,
  KEYCLOAK_CIMD_EXECUTOR,
  MCP_CIMD_EXECUTOR,
} from '@mcp-keycloak-stack/seed/cimd/ensureCimdPolicy';
import { keycloakAdmin } from '../clients/support/consoleClient.ts';
import { MemoryOAuthProvider } from '../clients/support/memoryOAuthProvider.ts';
import { CookieJar } from '../e2e/support/cookieJar.ts';
import {
  authorizationCodeUrl,
  createPkcePair,
  loginThroughBrowserForm,
} from '../e2e/support/keycloakLogin.ts';
import { startLoopbackCallback, type LoopbackCallback } from '../e2e/support/loopbackCallback.ts';
import { connectWithToken, toolJson } from '../e2e/support/mcpClient.ts';
import { decodeJwtPayload, loadStack, user } from '../e2e/support/stack.ts';
import { postForm } from '../e2e/support/tokens.ts';
import {
  DocumentServer,
  errorPageMessage,
  hostDocument,
  trustLoopbackDocuments,
  type DocumentAnswer,
} from './support/cimdDocuments.ts';

/** Loopback without a port: Keycloak accepts any port (RFC 8252 §7.3), as native hosts need. */
const LOOPBACK_CALLBACK = 'http://127.0.0.1/callback';

/** An SDK OAuth provider that announces a client ID metadata document (SEP-991) instead of registering. */
class CimdOAuthProvider extends MemoryOAuthProvider {
  constructor(
    redirectUri: string,
    readonly clientMetadataUrl: string,
  ) {
    super(redirectUri);
  }
}

describe(
  'client ID metadata documents (Keycloak feature cimd) against the stack',
  { concurrency: false },
  () => {
    let card: StackCard;
    let admin: KcAdminClient;
    let documents: DocumentServer;
    let callback: LoopbackCallback;
    let restorePolicy: (() => Promise<void>) | undefined;
    const created: string[] = [];

    /** The authorization request a host sends with a document URL as client_id; Keycloak's answer, not followed. */
    async function authorize(clientId: string, redirectUri = callback.redirectUri) {
      const url = authorizationCodeUrl(`${card.issuer}/protocol/openid-connect/auth`, {
        clientId,
        redirectUri,
        scope: 'openid mcp:tools',
        challenge: createPkcePair().challenge,
        state: crypto.randomUUID(),
      });
      const response = await fetch(url, { redirect: 'manual' });
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        html: await response.text(),
      };
    }

    async function clientNamed(clientId: string) {
      const [found] = await admin.clients.find({ clientId });
      return found;
    }

    async function allClientIds(): Promise<string[]> {
      return (await admin.clients.find({ first: 0, max: 100_000 })).map((c) => c.clientId ?? '').sort();
    }

    /** Authorization code + PKCE through Keycloak's form (consent accepted), the code redeemed without a secret. */
    async function logIn(clientId: string, username: 'alice' | 'bob') {
      const pkce = createPkcePair();
      const authorizationUrl = authorizationCodeUrl(`${card.issuer}/protocol/openid-connect/auth`, {
        clientId,
        redirectUri: callback.redirectUri,
        scope: 'openid mcp:tools',
        challenge: pkce.challenge,
        state: crypto.randomUUID(),
      });
      const { code } = await loginThroughBrowserForm({
        authorizationUrl,
        ...user(card, username),
        callback,
        jar: new CookieJar(),
      });
      const tokens = await postForm(`${card.issuer}/protocol/openid-connect/token`, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: callback.redirectUri,
        client_id: clientId,
        code_verifier: pkce.verifier,
      });
      return tokens.access_token as string;
    }

    before(async () => {
      card = await loadStack();
      admin = await keycloakAdmin(card);
      documents = await DocumentServer.start();
      callback = await startLoopbackCallback();
      restorePolicy = await trustLoopbackDocuments(card);
    });
    after(async () => {
      await restorePolicy?.();
      for (const clientId of created) {
        const found = await clientNamed(clientId).catch(() => undefined);
        if (found?.id) await admin.clients.del({ id: found.id });
      }
      await callback?.close();
      await documents?.close();
    });

    it('the authorization server metadata advertises client_id_metadata_document_supported (and auth method none)', async () => {
      for (const url of [
        `${card.issuer}/.well-known/openid-configuration`,
        `${new URL(card.issuer).origin}/.well-known/oauth-authorization-server${new URL(card.issuer).pathname}`,
      ]) {
        const metadata = (await (await fetch(url)).json()) as Record<string, unknown>;
        assert.equal(metadata.client_id_metadata_document_supported, true, url);
        assert.ok((metadata.token_endpoint_auth_methods_supported as string[]).includes('none'), url);
      }
    });

    it('the seeded mcp-cimd policy: client-id-uri (https, trusted hosts) + any-client → Keycloak’s executor, then ours', async () => {
      const { policies = [] } = await admin.clientPolicies.listPolicies({ includeGlobalPolicies: false });
      const policy = policies.find((p) => p.name === CIMD_POLICY);
      assert.ok(policy?.enabled, 'no enabled mcp-cimd policy');
      assert.deepEqual(
        policy.conditions?.map((c) => c.condition),
        [KEYCLOAK_CIMD_CONDITION, 'any-client'],
      );
      // It comes after the realm's PKCE policy, whose auto-configuration our executor then sees.
      assert.ok(
        policies.findIndex((p) => p.name === CIMD_POLICY) >
          policies.findIndex((p) => p.name === 'mcp-public-clients-pkce'),
      );
      const { profiles = [] } = await admin.clientPolicies.listProfiles({ includeGlobalProfiles: false });
      const profile = profiles.find((p) => p.name === CIMD_POLICY);
      assert.deepEqual(
        profile?.executors?.map((e) => e.executor),
        [KEYCLOAK_CIMD_EXECUTOR, MCP_CIMD_EXECUTOR],
      );
      const hosts = (profile?.executors?.[0]?.configuration as Record<string, unknown>)[
        'cimd-allow-permitted-domains'
      ] as string[];
      for (const host of ['127.0.0.1', 'localhost', 'vscode.dev', 'claude.ai'])
        assert.ok(hosts.includes(host), host);
    });

    it('a good document: Keycloak fetches it once, creates a public client with consent, alice logs in, whoami', async () => {
      const clientId = documents.serve('/hosts/good.json', (url) =>
        hostDocument(url, 'CIMD test host', [LOOPBACK_CALLBACK]),
      );
      created.push(clientId);
      const token = await logIn(clientId, 'alice');
      assert.equal(documents.fetches('/hosts/good.json'), 1);

      const client = await clientNamed(clientId);
      assert.ok(client, 'Keycloak created no client for the document');
      assert.equal(client.name, 'CIMD test host');
      assert.equal(client.publicClient, true);
      assert.equal(client.consentRequired, true);
      assert.equal(client.fullScopeAllowed, false);
      assert.equal(client.standardFlowEnabled, true);
      assert.equal(client.directAccessGrantsEnabled, false);
      assert.equal(client.serviceAccountsEnabled, false);
      assert.deepEqual(client.redirectUris, [LOOPBACK_CALLBACK]);
      // The document names no scope: the realm's default scopes, and every allow-listed one to ask for (as DCR).
      assert.ok(client.defaultClientScopes?.includes('basic'), JSON.stringify(client.defaultClientScopes));
      for (const scope of ['mcp:tools', 'mcp:admin', 'offline_access'])
        assert.ok(
          client.optionalClientScopes?.includes(scope),
          `${scope}: ${JSON.stringify(client.optionalClientScopes)}`,
        );
      assert.equal(client.attributes?.['pkce.code.challenge.method'], 'S256');
      // Not a DCR registration: the janitor (which deletes stale ones by this stamp) leaves it alone.
      assert.equal(client.attributes?.['mcp.registered-at'], undefined);
      const expiry = Number(client.attributes?.['cimd.cache.expiry.time.in.sec']);
      assert.ok(Math.abs(expiry - (Date.now() / 1000 + 3600)) < 120, `cache expiry ${expiry} (max-age 3600)`);

      const claims = decodeJwtPayload(token);
      assert.equal(claims.azp, clientId);
      assert.equal(claims.preferred_username, 'alice');
      assert.ok([claims.aud].flat().includes(card.mcpUrl), JSON.stringify(claims.aud));
      const mcp = await connectWithToken(card.mcpUrl, token);
      const whoami = toolJson(await mcp.callTool({ name: 'whoami', arguments: {} }));
      await mcp.close();
      assert.equal(whoami.username, 'alice');
      assert.equal(whoami.clientId, clientId);

      // alice consented to this client (consent screen); bob's login uses the cached document: no second fetch.
      const [alice] = await admin.users.find({ username: 'alice', exact: true });
      const consents = await admin.users.listConsents({ id: alice?.id ?? '' });
      assert.ok(
        consents.some((c) => c.clientId === clientId),
        JSON.stringify(consents.map((c) => c.clientId)),
      );
      await logIn(clientId, 'bob');
      assert.equal(documents.fetches('/hosts/good.json'), 1);
    });

    it('the MCP TypeScript SDK client with clientMetadataUrl: no DCR, the document URL as client_id, then a tool call', async () => {
      const clientId = documents.serve('/hosts/sdk.json', (url) =>
        hostDocument(url, 'MCP SDK client (CIMD)', [LOOPBACK_CALLBACK]),
      );
      created.push(clientId);
      const provider = new CimdOAuthProvider(callback.redirectUri, clientId);
      const requests: string[] = [];
      const recordingFetch: typeof fetch = (input, init) => {
        requests.push(`${init?.method ?? 'GET'} ${input instanceof Request ? input.url : String(input)}`);
        return fetch(input, init);
      };
      const connect = () => {
        const client = new Client({ name: 'sdk-cimd-test', version: '0.1.0' });
        const transport = new StreamableHTTPClientTransport(new URL(card.mcpUrl), {
          authProvider: provider,
          fetch: recordingFetch,
        });
        return { client, transport };
      };

      const first = connect();
      await assert.rejects(first.client.connect(first.transport), UnauthorizedError);
      assert.equal(provider.client?.client_id, clientId);
      assert.ok(!requests.some((r) => r.includes('/clients-registrations/')), requests.join('\n'));
      const [url] = provider.authorizationUrls;
      assert.ok(url, 'the SDK asked for no authorization');
      assert.equal(url.searchParams.get('client_id'), clientId);
      assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(url.searchParams.get('resource'), card.mcpUrl);

      const { code } = await loginThroughBrowserForm({
        authorizationUrl: url,
        ...user(card, 'alice'),
        callback,
        jar: new CookieJar(),
      });
      const second = connect();
      await second.transport.finishAuth(code);
      await second.client.connect(second.transport);
      const whoami = toolJson(await second.client.callTool({ name: 'whoami', arguments: {} }));
      await second.client.close();
      assert.equal(whoami.clientId, clientId);
      assert.equal(whoami.username, 'alice');
      assert.equal(documents.fetches('/hosts/sdk.json'), 1);
    });

    it('a client_id on a host outside SEED_CIMD_TRUSTED_DOMAINS is never fetched: "Client not found."', async () => {
      const path = '/hosts/untrusted-host.json';
      documents.serve(path, (url) => hostDocument(url, 'untrusted', [LOOPBACK_CALLBACK]));
      const clientId = `https://127.0.0.1:${documents.port}${path}`; // 127.0.0.1 is no trusted document host
      const answer = await authorize(clientId);
      assert.equal(answer.status, 400);
      assert.equal(errorPageMessage(answer.html), 'Client not found.');
      assert.equal(documents.fetches(path), 0);
    });

    const BAD: { slug: string; name: string; answer: (url: string) => DocumentAnswer; refusal: RegExp }[] = [
      {
        slug: 'not-json',
        name: 'not JSON',
        answer: () => ({
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: '{"client_id": ',
        }),
        refusal: /^Client Metadata fetch failed$/,
      },
      {
        slug: 'oversized',
        name: 'oversized (over Keycloak’s 5000 bytes)',
        answer: (url) =>
          hostDocument(url, 'big', [LOOPBACK_CALLBACK], {
            client_uri: `https://localhost/${'x'.repeat(6000)}`,
          }),
        refusal: /^Client Metadata fetch failed$/,
      },
      {
        slug: 'redirecting',
        name: 'redirecting (302 to a document that names the first URL)',
        answer: () => ({ status: 302, headers: { location: '/bad/redirect-target.json' } }),
        refusal: /^Client Metadata fetch failed$/,
      },
      {
        slug: 'not-found',
        name: 'not found (404)',
        answer: () => ({ status: 404 }),
        refusal: /^Client Metadata fetch failed$/,
      },
      {
        slug: 'foreign-trusted',
        name: 'naming a foreign redirect URI on a trusted host',
        answer: (url) => hostDocument(url, 'foreign', [LOOPBACK_CALLBACK, 'https://claude.ai/oauth/collect']),
        refusal: /refused: redirect URI https:\/\/claude\.ai\/oauth\/collect is not allowed/,
      },
      {
        slug: 'foreign-untrusted',
        name: 'naming a foreign redirect URI on an untrusted host',
        answer: (url) => hostDocument(url, 'foreign', [LOOPBACK_CALLBACK, 'https://attacker.example/cb']),
        refusal: /^Invalid Client ID: domain not allowed\.$/,
      },
      {
        slug: 'other-redirect',
        name: 'whose redirect URIs do not include the request’s',
        answer: (url) => hostDocument(url, 'elsewhere', ['http://127.0.0.1/elsewhere']),
        refusal: /redirect_uri parameter does not exactly match/,
      },
      {
        slug: 'other-client-id',
        name: 'with another client_id than its URL',
        answer: (url) => hostDocument(`${url}.other`, 'impostor', [LOOPBACK_CALLBACK]),
        refusal: /client_id property does not exactly match client_id parameter/,
      },
      {
        slug: 'secret',
        name: 'with a client secret',
        answer: (url) => hostDocument(url, 'secret', [LOOPBACK_CALLBACK], { client_secret: 'shared' }),
        refusal: /client_secret or client_secret_expires_at/,
      },
      {
        slug: 'confidential',
        name: 'of a confidential client (private_key_jwt)',
        answer: (url) =>
          hostDocument(url, 'confidential', [LOOPBACK_CALLBACK], {
            token_endpoint_auth_method: 'private_key_jwt',
            jwks_uri: 'https://localhost/jwks.json',
          }),
        refusal: /refused: self-registered clients must be public/,
      },
      {
        slug: 'scope',
        name: 'asking for a scope off the DCR allow-list',
        answer: (url) =>
          hostDocument(url, 'scopes', [LOOPBACK_CALLBACK], { scope: 'openid mcp:tools service_account' }),
        refusal: /refused: client scopes \[service_account\] are not allowed/,
      },
      {
        slug: 'placeholder',
        name: 'with a theme placeholder as its name (a consent screen that lies)',
        answer: (url) => hostDocument(url, '${client_account-console}', [LOOPBACK_CALLBACK]),
        refusal: /refused: client_name must not contain "\$\{"/,
      },
    ];

    it('bad documents: Keycloak’s error page (400, never a 500), the document was fetched, the realm unchanged', async () => {
      documents.serve('/bad/redirect-target.json', () =>
        hostDocument(documents.url('/bad/redirecting.json'), 'redirected', [LOOPBACK_CALLBACK]),
      );
      const before = await allClientIds();
      for (const bad of BAD) {
        const path = `/bad/${bad.slug}.json`;
        const clientId = documents.serve(path, bad.answer);
        const answer = await authorize(clientId);
        assert.equal(answer.status, 400, `${bad.name}: HTTP ${answer.status}\n${answer.html.slice(0, 500)}`);
        assert.match(answer.type ?? '', /^text\/html/, bad.name);
        assert.match(errorPageMessage(answer.html) ?? '(no error message)', bad.refusal, bad.name);
        assert.equal(documents.fetches(path), 1, `${bad.name}: fetched ${documents.fetches(path)} times`);
        assert.equal(await clientNamed(clientId), undefined, `${bad.name}: a client was created`);
      }
      // Keycloak does not follow the redirect.
      assert.equal(documents.fetches('/bad/redirect-target.json'), 0);
      assert.deepEqual(await allClientIds(), before);
    });

    it('a document that turns bad at its refresh is refused and the client stays as it was; fixed, it refreshes', async () => {
      let foreign = false;
      const clientId = documents.serve('/hosts/refreshed.json', (url) =>
        hostDocument(
          url,
          'refreshed host',
          foreign ? [LOOPBACK_CALLBACK, 'https://claude.ai/x'] : [LOOPBACK_CALLBACK],
        ),
      );
      created.push(clientId);
      assert.equal((await authorize(clientId)).status, 200, 'the first fetch should create the client');
      const original = await clientNamed(clientId);
      assert.ok(original?.id);
      // Its cached copy expires (Keycloak keeps it at least 5 minutes; the test makes it stale now).
      const stale = String(Math.floor(Date.now() / 1000) - 10);
      await admin.clients.update(
        { id: original.id },
        { ...original, attributes: { ...original.attributes, 'cimd.cache.expiry.time.in.sec': stale } },
      );

      foreign = true;
      const refused = await authorize(clientId);
      assert.equal(refused.status, 400);
      assert.match(
        errorPageMessage(refused.html) ?? '',
        /refused: redirect URI https:\/\/claude\.ai\/x is not allowed/,
      );
      assert.equal(documents.fetches('/hosts/refreshed.json'), 2);
      const kept = await clientNamed(clientId);
      assert.deepEqual(kept?.redirectUris, [LOOPBACK_CALLBACK]);
      assert.equal(kept?.attributes?.['cimd.cache.expiry.time.in.sec'], stale);

      foreign = false;
      assert.equal((await authorize(clientId)).status, 200);
      assert.equal(documents.fetches('/hosts/refreshed.json'), 3);
      const refreshed = await clientNamed(clientId);
      assert.ok(Number(refreshed?.attributes?.['cimd.cache.expiry.time.in.sec']) > Date.now() / 1000);
    });
  },
);
