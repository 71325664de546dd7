// identity: { type: token-exchange } end to end, with the real Keycloak: a gateway process of its own (same code
// as `npm start`) in front of one Streamable HTTP upstream, `exchanged` (fixtures/whoUpstream.ts, whose tool
// `who` reports the Authorization header it received, decoded and hashed, never the token). The realm side comes
// from the seed (`npm run seed -- upstreams --file … --base-url …`: the client scope mcp:exchanged, the gateway's
// confidential client mcp-gateway with its secret written to the stack card, the target client exchanged-api,
// the mappers), users log in on Keycloak's form asking `openid mcp:exchanged`. The upstream must receive a token
// Keycloak issued to mcp-gateway for exchanged-api, about the caller — never the caller's own token; a gateway
// whose client secret is wrong, or a call whose token Keycloak no longer exchanges (the user was logged out),
// gets a JSON-RPC error naming the token exchange (HTTP 200, never a 5xx) and the upstream receives nothing.
// (`exchanged`: a name of its own, so its scope disturbs no other test's.)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { CookieJar } from '../e2e/support/cookieJar.ts';
import { startLoopbackCallback, type LoopbackCallback } from '../e2e/support/loopbackCallback.ts';
import { freePort, startMcpServer, type McpServerProcess } from '../e2e/support/mcpServerProcess.ts';
import { decodeJwtPayload, loadStack, REPO_ROOT } from '../e2e/support/stack.ts';
import { formLoginToken } from './support/formLogin.ts';
import { keycloakAdmin } from '../clients/support/consoleClient.ts';
import type { SeenAuthorization } from './fixtures/whoUpstream.ts';
import { seedUpstreams, spawnProcess, waitForHttp, type Spawned } from './support/gatewayProcesses.ts';
import { McpSession, postMcp, PROTOCOL_VERSION, responseTo, resultText } from './support/mcpHttp.ts';
import { createPublicClientWithScopes } from './support/realmAdmin.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'whoUpstream.ts');
const UPSTREAM = 'exchanged';
const SCOPE = `mcp:${UPSTREAM}`;
const AUDIENCE = 'exchanged-api';
const GATEWAY_CLIENT_ID = 'mcp-gateway';
const POLICY_TYPE = 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy';
/** Bounds every case: a hung upstream or gateway fails the case instead of the whole run. */
const CASE = { timeout: 120_000 };

/** An initialize at `url` with `token`, spoken by hand to see the answer whatever it is. */
function initializeAt(url: string, token: string, id: number) {
  return postMcp(
    url,
    {
      jsonrpc: '2.0',
      id,
      method: 'initialize',
      params: {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'token-exchange-integration-test', version: '0.1.0' },
      },
    },
    { token },
  );
}

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

interface Seen {
  method: string;
  rpc: string | null;
  authorization: SeenAuthorization | null;
}

describe(
  'token exchange at the gateway: the upstream gets a token for its own API',
  { concurrency: false },
  () => {
    let card: StackCard;
    let work: string;
    let who: Spawned | undefined;
    let gateway: McpServerProcess | undefined;
    let wrongSecretGateway: McpServerProcess | undefined;
    let callback: LoopbackCallback | undefined;
    let loginClient: { clientId: string; remove(): Promise<void> } | undefined;
    let seedOutput = '';
    /** Where requests go (the gateway listens on 127.0.0.1) … */
    let base: string;
    /** … and the public origin its resource URLs carry (tokens' aud). */
    let publicBase: string;
    const jars = { alice: new CookieJar(), bob: new CookieJar() };

    const resourceUrl = () => `${publicBase}/mcp/${UPSTREAM}`;

    /** What the upstream received so far (fixtures/whoUpstream.ts prints one line per HTTP request). */
    const seenByUpstream = (): Seen[] =>
      (who?.output() ?? '')
        .split('\n')
        .filter((line) => line.startsWith('{"seen":'))
        .map((line) => (JSON.parse(line) as { seen: Seen }).seen);

    /** A person's token through Keycloak's login form (code + PKCE); SSO after the first login. */
    async function userToken(username: 'alice' | 'bob', scope: string): Promise<string> {
      assert.ok(loginClient && callback);
      const { clientId } = loginClient;
      return formLoginToken({ card, clientId, callback, username, jar: jars[username], scope });
    }

    /** `who` through the gateway: what the upstream saw of the call's Authorization header. */
    async function callWho(session: McpSession): Promise<SeenAuthorization> {
      const { answer, result, error } = await session.callTool('who');
      assert.equal(answer.status, 200, answer.text);
      assert.equal(error, undefined, JSON.stringify(error));
      assert.notEqual(result?.isError, true, JSON.stringify(result));
      const seen = (JSON.parse(resultText(result)) as { authorization: SeenAuthorization | null })
        .authorization;
      assert.ok(seen, 'the upstream received no Authorization header');
      return seen;
    }

    before(
      async () => {
        card = await loadStack();
        work = await mkdtemp(join(tmpdir(), 'token-exchange-it-'));
        const [whoPort, gatewayPort, wrongPort] = [await freePort(), await freePort(), await freePort()];
        base = `http://127.0.0.1:${gatewayPort}`;
        publicBase = `http://localhost:${gatewayPort}`;

        who = spawnProcess(process.execPath, ['--import', 'tsx', FIXTURE, String(whoPort)], {
          env: { PATH: process.env.PATH ?? '', HOME: work },
          cwd: REPO_ROOT,
        });
        await waitForHttp(`http://127.0.0.1:${whoPort}/mcp`, who, 30_000);

        const upstreamsFile = join(work, 'upstreams.json');
        await writeFile(
          upstreamsFile,
          JSON.stringify({
            upstreams: [
              {
                name: UPSTREAM,
                transport: { type: 'streamable-http', url: `http://127.0.0.1:${whoPort}/mcp` },
                identity: { type: 'token-exchange', audience: AUDIENCE },
                timeoutSeconds: 30,
              },
            ],
          }),
        );
        seedOutput = await seedUpstreams(card, upstreamsFile, `${publicBase}/mcp`);
        card = await loadStack(); // the seed wrote the gateway's client into the card
        const exchange = card.gateway;
        assert.ok(exchange, `the seed wrote no gateway client into the card:\n${seedOutput}`);

        const env = {
          MCP_RESOURCE_URL: `${publicBase}/mcp`,
          MCP_UPSTREAMS_FILE: upstreamsFile,
          MCP_RATE_LIMIT: '10000',
          MCP_GATEWAY_CLIENT_ID: exchange.clientId,
        };
        gateway = await startMcpServer(card, gatewayPort, {
          ...env,
          MCP_GATEWAY_CLIENT_SECRET: exchange.clientSecret,
        });
        // The same public URL (so the same tokens are valid at it), another port, a secret Keycloak refuses.
        wrongSecretGateway = await startMcpServer(card, wrongPort, {
          ...env,
          MCP_GATEWAY_CLIENT_SECRET: `not-${exchange.clientSecret}`,
        });

        callback = await startLoopbackCallback();
        loginClient = await createPublicClientWithScopes(card, callback.redirectUri, [SCOPE]);
      },
      { timeout: 240_000 },
    );

    after(
      async () => {
        // GATEWAY_LOG=<file>: the gateway's whole output (log and audit lines) kept for a look afterwards.
        if (process.env.GATEWAY_LOG && gateway) await writeFile(process.env.GATEWAY_LOG, gateway.output());
        await Promise.all([gateway?.stop(), wrongSecretGateway?.stop(), who?.stop()]);
        await loginClient?.remove().catch(() => {});
        await callback?.close();
        if (card) await removeRealmSide(card).catch((error: unknown) => console.error(error));
        if (work) await rm(work, { recursive: true, force: true });
      },
      { timeout: 60_000 },
    );

    it(
      'the seed: mcp-gateway (its secret in the card), the target client, the scope naming the gateway',
      CASE,
      async () => {
        assert.match(
          seedOutput,
          new RegExp(`confidential client ${GATEWAY_CLIENT_ID} \\(token exchange for ${AUDIENCE}\\)`),
        );
        assert.equal(card.gateway?.clientId, GATEWAY_CLIENT_ID);
        assert.ok((card.gateway?.clientSecret ?? '').length >= 16);
        const admin = await keycloakAdmin(card);
        const [target] = await admin.clients.find({ clientId: AUDIENCE });
        assert.ok(target, `no client ${AUDIENCE}`);
        const scope = await admin.clientScopes.findOneByName({ name: SCOPE });
        assert.ok(scope?.id, `no client scope ${SCOPE}`);
        const mappers = await admin.clientScopes.listProtocolMappers({ id: scope.id });
        const audiences = mappers.map(
          (m) => m.config?.['included.custom.audience'] ?? m.config?.['included.client.audience'],
        );
        assert.ok(audiences.includes(resourceUrl()), JSON.stringify(audiences));
        assert.ok(audiences.includes(GATEWAY_CLIENT_ID), JSON.stringify(audiences));
      },
    );

    it(
      'bob calls `who`: the upstream gets a token for exchanged-api, from mcp-gateway, about bob — not his',
      CASE,
      async () => {
        const token = await userToken('bob', `openid ${SCOPE}`);
        const caller = decodeJwtPayload(token);
        const callerAud = [caller.aud].flat();
        assert.ok(callerAud.includes(resourceUrl()), JSON.stringify(caller.aud));
        assert.ok(callerAud.includes(GATEWAY_CLIENT_ID), JSON.stringify(caller.aud)); // so Keycloak lets the gateway exchange it

        const before = seenByUpstream().length;
        const session = await McpSession.open(`${base}/mcp/${UPSTREAM}`, token);
        assert.deepEqual(await session.toolNames(), ['who']);
        const seen = await callWho(session);

        assert.equal(seen.scheme, 'Bearer');
        assert.notEqual(seen.sha256, sha256(token), 'the upstream received the caller’s own token');
        assert.deepEqual([seen.claims?.aud].flat(), [AUDIENCE]);
        assert.equal(seen.claims?.azp, GATEWAY_CLIENT_ID);
        assert.equal(seen.claims?.preferred_username, 'bob');
        assert.equal(seen.claims?.sub, caller.sub);

        // Every request the upstream got for this session (initialize included) carried the exchanged token, cached
        // for the caller's token: a second call brings the same one; the caller's token never arrived.
        assert.deepEqual(await callWho(session), seen);
        const requests = seenByUpstream().slice(before);
        assert.ok(requests.length >= 3, JSON.stringify(requests));
        for (const request of requests) {
          assert.equal(request.authorization?.sha256, seen.sha256, JSON.stringify(request));
        }
        assert.ok(!seenByUpstream().some((r) => r.authorization?.sha256 === sha256(token)));

        // The gateway's audit line: bob's call, ok.
        await sleep(100);
        const audit = (gateway?.output() ?? '')
          .split('\n')
          .filter((line) => line.includes('"audit":"tool_call"'))
          .map((line) => JSON.parse(line) as Record<string, unknown>)
          .filter((a) => a.upstream === UPSTREAM && a.subject === caller.sub);
        assert.deepEqual(
          audit.map((a) => [a.tool, a.outcome]),
          [
            ['who', 'ok'],
            ['who', 'ok'],
          ],
        );
        assert.doesNotMatch(gateway?.output() ?? '', new RegExp(token.split('.')[2] ?? token));
      },
    );

    it(
      'alice and bob side by side: each upstream session carries its own caller’s exchanged token',
      CASE,
      async () => {
        const [aliceToken, bobToken] = [
          await userToken('alice', `openid ${SCOPE}`),
          await userToken('bob', `openid ${SCOPE}`),
        ];
        const alice = await McpSession.open(`${base}/mcp/${UPSTREAM}`, aliceToken);
        const bob = await McpSession.open(`${base}/mcp/${UPSTREAM}`, bobToken);
        const [aliceSeen, bobSeen, aliceAgain] = [
          await callWho(alice),
          await callWho(bob),
          await callWho(alice),
        ];
        assert.equal(aliceSeen.claims?.preferred_username, 'alice');
        assert.equal(aliceSeen.claims?.sub, decodeJwtPayload(aliceToken).sub);
        assert.equal(bobSeen.claims?.preferred_username, 'bob');
        assert.equal(aliceAgain.claims?.preferred_username, 'alice');
        for (const [seen, token] of [
          [aliceSeen, aliceToken],
          [bobSeen, bobToken],
        ] as const) {
          assert.deepEqual([seen.claims?.aud].flat(), [AUDIENCE]);
          assert.equal(seen.claims?.azp, GATEWAY_CLIENT_ID);
          assert.notEqual(seen.sha256, sha256(token));
        }
      },
    );

    it(
      'a gateway whose client secret Keycloak refuses: a JSON-RPC error naming the token exchange, nothing reaches the upstream',
      CASE,
      async () => {
        assert.ok(wrongSecretGateway);
        const token = await userToken('bob', `openid ${SCOPE}`);
        const before = seenByUpstream().length;
        const url = `${wrongSecretGateway.baseUrl}/mcp/${UPSTREAM}`;
        const initialize = await initializeAt(url, token, 1);
        assert.equal(initialize.status, 200, initialize.text);
        assert.equal(initialize.headers.get('mcp-session-id'), null); // no session was opened
        const error = responseTo(initialize, 1)?.error;
        assert.ok(error, JSON.stringify(initialize.messages));
        assert.match(
          error.message,
          new RegExp(`upstream ${UPSTREAM}: token exchange refused \\(HTTP 401`),
          error.message,
        );
        assert.ok(!error.message.includes(token), 'the error message carries the token');
        // Again: the failure is not remembered, Keycloak is asked again and refuses again.
        const again = await initializeAt(url, token, 2);
        assert.equal(again.status, 200, again.text);
        assert.match(responseTo(again, 2)?.error?.message ?? '', /token exchange refused/);
        // Without a session there is no tools/call to make: initialize already needs the exchanged token.

        await sleep(500);
        assert.deepEqual(seenByUpstream().slice(before), [], 'the upstream was contacted');
        // The good gateway still works meanwhile.
        const session = await McpSession.open(`${base}/mcp/${UPSTREAM}`, token);
        assert.equal((await callWho(session)).claims?.aud, AUDIENCE);
      },
    );

    it(
      'a call whose token Keycloak no longer exchanges (bob was logged out): that call gets a JSON-RPC error, the upstream nothing',
      CASE,
      async () => {
        // Two tokens of one login; the gateway checks them offline, so both stay valid at it after the logout.
        const first = await userToken('bob', `openid ${SCOPE}`);
        const second = await userToken('bob', `openid ${SCOPE}`);
        const session = await McpSession.open(`${base}/mcp/${UPSTREAM}`, first);
        assert.equal((await callWho(session)).claims?.preferred_username, 'bob');
        const admin = await keycloakAdmin(card);
        await admin.users.logout({ id: String(decodeJwtPayload(first).sub) });

        const before = seenByUpstream().length;
        const auditFrom = gateway?.output().length ?? 0;
        session.token = second; // not exchanged yet: the gateway must ask Keycloak, which refuses
        const { answer, error } = await session.callTool('who', {}, { id: 'after-logout' });
        assert.equal(answer.status, 200, answer.text);
        assert.ok(error, JSON.stringify(answer.messages));
        assert.match(
          error.message,
          new RegExp(`^upstream ${UPSTREAM}: token exchange refused`),
          error.message,
        );
        await sleep(500);
        assert.deepEqual(seenByUpstream().slice(before), [], 'the upstream was contacted');
        const audit = (gateway?.output() ?? '')
          .slice(auditFrom)
          .split('\n')
          .filter((line) => line.includes('"audit":"tool_call"'))
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        assert.deepEqual(
          audit.map((a) => [a.upstream, a.tool, a.outcome]),
          [[UPSTREAM, 'who', 'unavailable']],
        );
      },
    );
  },
);

/**
 * Takes back what the seed made for this file (as seed/test/e2e/upstreams.e2e.test.ts does): the scope in the
 * registration allow-lists, the scope itself (with it its place on clients and as a realm optional scope), the
 * target client and the gateway's mapper for it. The gateway client and its secret in the card stay.
 */
async function removeRealmSide(card: StackCard): Promise<void> {
  const admin = await keycloakAdmin(card);
  // The allow-lists first: Keycloak refuses to save one that names a client scope that does not exist.
  for (const policy of await admin.components.find({ type: POLICY_TYPE })) {
    const list = policy.config?.['allowed-client-scopes'];
    if (!policy.id || !Array.isArray(list)) continue;
    const kept = list.filter((s) => s !== SCOPE);
    if (kept.length !== list.length) {
      await admin.components.update(
        { id: policy.id },
        { ...policy, config: { ...policy.config, 'allowed-client-scopes': kept } },
      );
    }
  }
  const scope = await admin.clientScopes.findOneByName({ name: SCOPE });
  if (scope?.id) await admin.clientScopes.del({ id: scope.id });
  const [target] = await admin.clients.find({ clientId: AUDIENCE });
  if (target?.id) await admin.clients.del({ id: target.id });
  const [gateway] = await admin.clients.find({ clientId: GATEWAY_CLIENT_ID });
  if (gateway?.id) {
    const mapper = await admin.clients.findProtocolMapperByName({
      id: gateway.id,
      name: `audience-${AUDIENCE}`,
    });
    if (mapper?.id) await admin.clients.delProtocolMapper({ id: gateway.id, mapperId: mapper.id });
  }
}
