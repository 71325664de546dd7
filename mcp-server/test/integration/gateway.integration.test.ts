// The gateway against the real stack (Keycloak tokens, Valkey counts) with MCP servers nobody here wrote: one
// gateway process of its own (same code as `npm start`, on a free port) in front of
//   everything-http   @modelcontextprotocol/server-everything, Streamable HTTP, started by this file;
//   files             @modelcontextprotocol/server-filesystem over stdio on a temp dir, write_file for admins;
//   fastmcp           a FastMCP (PyPI) server (fixtures/fastmcp_upstream.py), 5 s timeout;
//   everything-stdio  server-everything over stdio, one process per token subject.
// The realm side comes from the seed (`npm run seed -- upstreams --file … --base-url …`), users log in on
// Keycloak's form. (`everything-stdio`, not `everything`: the stack's own upstreams file has an `everything`,
// and its scope mcp:everything carries one audience — seeding it for this gateway would point the stack's
// tokens here.)
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'iovalkey';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { CookieJar } from '../e2e/support/cookieJar.ts';
import { startLoopbackCallback, type LoopbackCallback } from '../e2e/support/loopbackCallback.ts';
import { freePort, startMcpServer, type McpServerProcess } from '../e2e/support/mcpServerProcess.ts';
import { decodeJwtPayload, loadStack, REPO_ROOT } from '../e2e/support/stack.ts';
import { postForm } from '../e2e/support/tokens.ts';
import { formLoginToken } from './support/formLogin.ts';
import {
  childrenOf,
  isAlive,
  seedUpstreams,
  spawnProcess,
  waitForHttp,
  type Spawned,
} from './support/gatewayProcesses.ts';
import { McpSession, postMcp, resultText } from './support/mcpHttp.ts';
import { createPublicClientWithScopes } from './support/realmAdmin.ts';

const MODULES = join(REPO_ROOT, 'node_modules/@modelcontextprotocol');
const EVERYTHING = join(MODULES, 'server-everything/dist/index.js');
const FILESYSTEM = join(MODULES, 'server-filesystem/dist/index.js');
const FASTMCP_FIXTURE = join(import.meta.dirname, 'fixtures', 'fastmcp_upstream.py');
const FASTMCP_PYTHON =
  process.env.FASTMCP_PYTHON ??
  join(homedir(), '.cache', 'mcp-keycloak-stack', 'fastmcp-venv', 'bin', 'python');
const NAMES = ['everything-http', 'files', 'fastmcp', 'everything-stdio'] as const;
type Name = (typeof NAMES)[number];
const REQUEST_TIMEOUT = -32001; // the SDK's ErrorCode.RequestTimeout
const FORBIDDEN = -32003;

/** The `scope` parameter of a Bearer challenge, sorted. */
function challengedScope(challenge: string | null): string[] {
  return (/scope="([^"]*)"/.exec(challenge ?? '')?.[1] ?? '').split(' ').filter(Boolean).sort();
}

function audienceOf(token: string): string[] {
  const aud = decodeJwtPayload(token).aud;
  return Array.isArray(aud) ? aud.map(String) : [String(aud)];
}

/** Audit lines (gateway/audit.ts) the gateway wrote after `from` characters of its output. */
function auditLines(gateway: McpServerProcess, from = 0): Record<string, unknown>[] {
  return gateway
    .output()
    .slice(from)
    .split('\n')
    .filter((line) => line.includes('"audit":"tool_call"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Bounds every case: a hung upstream or gateway fails the case instead of the whole run. */
const CASE = { timeout: 120_000 };

/**
 * A long-running call with progress (server-everything's trigger-long-running-operation): `progressed` resolves
 * true at its first notification, false if the call ended before any.
 */
function longCall(
  session: McpSession,
  args: { duration: number; steps: number },
  options: { id?: string; timeoutMs?: number } = {},
) {
  let progressed: (value: boolean) => void = () => {};
  const first = new Promise<boolean>((resolve) => (progressed = resolve));
  const done = session.callTool('trigger-long-running-operation', args, {
    ...options,
    progressToken: `${options.id ?? 'call'}-progress`,
    onMessage: (m) => {
      if ('method' in m && m.method === 'notifications/progress') progressed(true);
    },
  });
  done.then(
    () => progressed(false),
    () => progressed(false),
  );
  return { progressed: first, done };
}

/** Polls until `check` returns a value (not undefined) or `timeoutMs` passes; returns the last value. */
async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined || Date.now() > deadline) return value;
    await sleep(250);
  }
}

describe(
  'gateway with real Keycloak and Valkey, third-party MCP servers behind it',
  { concurrency: false },
  () => {
    let card: StackCard;
    let work: string;
    let filesDir: string;
    let gateway: McpServerProcess;
    let everythingHttp: Spawned | undefined;
    let fastmcp: Spawned | undefined;
    let fastmcpPort: number;
    let callback: LoopbackCallback;
    let loginClient: { clientId: string; remove(): Promise<void> } | undefined;
    let valkey: Redis;
    /** Where requests go (the gateway listens on 127.0.0.1) … */
    let base: string;
    /** … and the public origin its resource URLs carry (tokens' aud). */
    let publicBase: string;
    const jars = { alice: new CookieJar(), bob: new CookieJar() };

    const url = (name: Name) => `${base}/mcp/${name}`;
    const resourceUrl = (name: Name) => `${publicBase}/mcp/${name}`;
    const metadataUrl = (name: Name | 'builtin') =>
      `${publicBase}/.well-known/oauth-protected-resource/mcp${name === 'builtin' ? '' : `/${name}`}`;
    const tokenEndpoint = () => `${card.issuer}/protocol/openid-connect/token`;

    async function m2mToken(scope: string): Promise<string> {
      const m2m = card.clients.m2m;
      assert.ok(m2m, 'the stack card has no M2M client');
      const basic = Buffer.from(
        `${encodeURIComponent(m2m.clientId)}:${encodeURIComponent(m2m.clientSecret)}`,
      );
      const body = await postForm(
        tokenEndpoint(),
        { grant_type: 'client_credentials', scope },
        { authorization: `Basic ${basic.toString('base64')}` },
      );
      return body.access_token as string;
    }

    /** A person's token through Keycloak's login form (code + PKCE); SSO after the first login. */
    async function userToken(username: 'alice' | 'bob', scope: string): Promise<string> {
      assert.ok(loginClient);
      const { clientId } = loginClient;
      return formLoginToken({ card, clientId, callback, username, jar: jars[username], scope });
    }

    async function startFastMcp(): Promise<Spawned> {
      const child = spawnProcess(FASTMCP_PYTHON, [FASTMCP_FIXTURE, String(fastmcpPort)], {
        env: { PATH: process.env.PATH ?? '', HOME: work, PYTHONUNBUFFERED: '1' },
        cwd: work,
      });
      await waitForHttp(`http://127.0.0.1:${fastmcpPort}/mcp`, child, 30_000);
      return child;
    }

    /** The server-everything stdio processes the gateway runs (one per subject that used everything-stdio). */
    const everythingChildren = () =>
      new Set(
        childrenOf(gateway.pid)
          .filter((c) => c.cmdline.includes('server-everything') && / stdio$/.test(c.cmdline))
          .map((c) => c.pid),
      );

    before(
      async () => {
        card = await loadStack();
        assert.ok(
          existsSync(FASTMCP_PYTHON),
          `no FastMCP venv at ${FASTMCP_PYTHON}: npm test creates it (mcp-server/test/clients/setup-fastmcp-venv.sh)`,
        );
        work = await mkdtemp(join(tmpdir(), 'gateway-it-'));
        filesDir = join(work, 'files');
        await mkdir(filesDir);
        await writeFile(join(filesDir, 'hello.txt'), 'hello from the gateway test');

        const [httpPort, gatewayPort] = [await freePort(), await freePort()];
        fastmcpPort = await freePort();
        base = `http://127.0.0.1:${gatewayPort}`;
        publicBase = `http://localhost:${gatewayPort}`;

        everythingHttp = spawnProcess(process.execPath, [EVERYTHING, 'streamableHttp'], {
          env: { PATH: process.env.PATH ?? '', PORT: String(httpPort) },
          cwd: work,
        });
        await waitForHttp(`http://127.0.0.1:${httpPort}/mcp`, everythingHttp, 30_000);
        fastmcp = await startFastMcp();

        const upstreamsFile = join(work, 'upstreams.json');
        await writeFile(
          upstreamsFile,
          JSON.stringify({
            upstreams: [
              {
                name: 'everything-http',
                transport: { type: 'streamable-http', url: `http://127.0.0.1:${httpPort}/mcp` },
                timeoutSeconds: 30,
              },
              {
                name: 'files',
                transport: {
                  type: 'stdio',
                  command: process.execPath,
                  args: [FILESYSTEM, filesDir],
                  isolation: 'shared',
                },
                timeoutSeconds: 30,
                tools: { rules: [{ match: 'write_file', scopes: ['mcp:admin'], roles: ['mcp-admin'] }] },
              },
              {
                name: 'fastmcp',
                transport: { type: 'streamable-http', url: `http://127.0.0.1:${fastmcpPort}/mcp` },
                timeoutSeconds: 5,
              },
              {
                name: 'everything-stdio',
                transport: {
                  type: 'stdio',
                  command: process.execPath,
                  args: [EVERYTHING, 'stdio'],
                  isolation: 'per-subject',
                },
                timeoutSeconds: 30,
              },
            ],
          }),
        );
        await seedUpstreams(card, upstreamsFile, `${publicBase}/mcp`);
        gateway = await startMcpServer(card, gatewayPort, {
          MCP_RESOURCE_URL: `${publicBase}/mcp`,
          MCP_UPSTREAMS_FILE: upstreamsFile,
          MCP_RATE_LIMIT: '10000',
          OIDC_SERVICE_ACCOUNT_CLIENTS: card.clients.m2m?.clientId ?? 'mcp-m2m',
        });

        callback = await startLoopbackCallback();
        loginClient = await createPublicClientWithScopes(card, callback.redirectUri, [
          ...NAMES.map((n) => `mcp:${n}`),
          'mcp:admin',
        ]);
        valkey = new Redis(card.valkeyUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
        await valkey.connect();
      },
      { timeout: 240_000 },
    );

    after(
      async () => {
        // GATEWAY_LOG=<file>: the gateway's whole output (log and audit lines) kept for a look afterwards.
        if (process.env.GATEWAY_LOG && gateway) await writeFile(process.env.GATEWAY_LOG, gateway.output());
        if (gateway) {
          const children = childrenOf(gateway.pid).map((c) => c.pid);
          await Promise.race([gateway.stop(), sleep(15_000, undefined, { ref: false })]);
          if (isAlive(gateway.pid)) process.kill(gateway.pid, 'SIGKILL');
          // stdio upstreams the gateway did not get to stop
          for (const pid of children) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
        }
        await Promise.all([everythingHttp?.stop(), fastmcp?.stop()]);
        await loginClient?.remove().catch(() => {});
        await callback?.close();
        valkey?.disconnect();
        if (work) await rm(work, { recursive: true, force: true });
      },
      { timeout: 60_000 },
    );

    it(
      'each upstream is its own protected resource: metadata at the path-inserted URL, 401 naming it',
      CASE,
      async () => {
        for (const name of NAMES) {
          const res = await fetch(`${base}/.well-known/oauth-protected-resource/mcp/${name}`, {
            signal: AbortSignal.timeout(10_000),
          });
          assert.equal(res.status, 200, name);
          const metadata = (await res.json()) as {
            resource: string;
            authorization_servers: string[];
            scopes_supported: string[];
          };
          assert.equal(metadata.resource, resourceUrl(name));
          assert.deepEqual(metadata.authorization_servers, [card.issuer]);
          assert.ok(
            metadata.scopes_supported.includes(`mcp:${name}`),
            `${name}: ${metadata.scopes_supported.join(' ')}`,
          );
          const anonymous = await fetch(url(name), {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
            signal: AbortSignal.timeout(10_000),
          });
          await anonymous.body?.cancel();
          assert.equal(anonymous.status, 401, name);
          assert.equal(
            anonymous.headers.get('www-authenticate'),
            `Bearer resource_metadata="${metadataUrl(name)}", scope="mcp:${name}"`,
          );
        }
        const files = (await (
          await fetch(`${base}/.well-known/oauth-protected-resource/mcp/files`)
        ).json()) as {
          scopes_supported: string[];
        };
        assert.ok(files.scopes_supported.includes('mcp:admin'), 'the write_file rule names mcp:admin');
      },
    );

    it(
      'the M2M client (client_credentials, scope=mcp:<name>) reaches every upstream; aud is the upstream URL',
      CASE,
      async () => {
        const m2mClientId = card.clients.m2m?.clientId;
        for (const name of NAMES) {
          const token = await m2mToken(`mcp:${name}`);
          const claims = decodeJwtPayload(token);
          assert.ok(
            audienceOf(token).includes(resourceUrl(name)),
            `${name}: aud ${JSON.stringify(claims.aud)}`,
          );
          assert.ok(
            String(claims.scope).split(' ').includes(`mcp:${name}`),
            `${name}: scope ${String(claims.scope)}`,
          );
          assert.equal(claims.azp, m2mClientId);
          const session = await McpSession.open(url(name), token);
          const tools = await session.toolNames();
          if (name === 'everything-http' || name === 'everything-stdio') {
            assert.ok(tools.includes('echo'), `${name}: ${tools.join(', ')}`);
            const echo = await session.callTool('echo', { message: `m2m at ${name}` });
            assert.match(resultText(echo.result), new RegExp(`m2m at ${name}`));
          } else if (name === 'files') {
            assert.ok(tools.includes('read_text_file'), tools.join(', '));
            assert.ok(
              !tools.includes('write_file'),
              'a machine token without mcp:admin does not see write_file',
            );
            const read = await session.callTool('read_text_file', { path: join(filesDir, 'hello.txt') });
            assert.equal(read.result?.isError ?? false, false, JSON.stringify(read));
            assert.match(resultText(read.result), /hello from the gateway test/);
          } else {
            assert.deepEqual(tools.sort(), ['add', 'seen_headers', 'slow']);
            const sum = await session.callTool('add', { a: 2, b: 3 });
            assert.equal(resultText(sum.result), '5', JSON.stringify(sum));
          }
        }
      },
    );

    it(
      "a token for one upstream is refused (401 invalid_token, naming the other's metadata) at every other upstream and at the gateway's built-in /mcp",
      CASE,
      async () => {
        const initialize = {
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 't', version: '1' },
          },
        };
        for (const name of NAMES) {
          const token = await m2mToken(`mcp:${name}`);
          const elsewhere = [...NAMES.filter((n) => n !== name), 'builtin' as const];
          for (const other of elsewhere) {
            const target = other === 'builtin' ? `${base}/mcp` : url(other);
            const answer = await postMcp(target, initialize, { token, timeoutMs: 10_000 });
            assert.equal(answer.status, 401, `${name}'s token at ${other}: ${answer.status} ${answer.text}`);
            const challenge = answer.headers.get('www-authenticate') ?? '';
            assert.match(challenge, /error="invalid_token"/, `${name} at ${other}: ${challenge}`);
            assert.ok(
              challenge.startsWith(`Bearer resource_metadata="${metadataUrl(other)}"`),
              `${name} at ${other}: ${challenge}`,
            );
            assert.equal(answer.headers.get('mcp-session-id'), null);
          }
        }
      },
    );

    it(
      'a session id is bound to the subject that opened it: another subject presenting it is refused',
      CASE,
      async () => {
        const bob = await McpSession.open(
          url('everything-http'),
          await userToken('bob', 'openid mcp:everything-http'),
        );
        const stranger = await m2mToken('mcp:everything-http'); // a valid token for this very upstream
        const list = { jsonrpc: '2.0', id: 5, method: 'tools/list' };
        const refused = await postMcp(url('everything-http'), list, {
          token: stranger,
          sessionId: bob.sessionId,
        });
        assert.equal(refused.status, 404, refused.text);
        assert.ok(!refused.messages.some((m) => 'result' in m), 'no tool list for the stranger');
        const del = await fetch(url('everything-http'), {
          method: 'DELETE',
          headers: { authorization: `Bearer ${stranger}`, 'mcp-session-id': bob.sessionId },
          signal: AbortSignal.timeout(10_000),
        });
        await del.body?.cancel();
        assert.equal(del.status, 404, 'nor may the stranger end it');
        const mine = await postMcp(url('everything-http'), list, {
          token: bob.token,
          sessionId: bob.sessionId,
        });
        assert.equal(mine.status, 200, 'the owner still uses it');
        assert.ok(mine.messages.some((m) => 'result' in m));
      },
    );

    it(
      'ending a gateway session (DELETE) ends the upstream HTTP session behind it (MCP transports §Session Management)',
      CASE,
      async () => {
        const mark = everythingHttp?.output().length ?? 0;
        const session = await McpSession.open(url('everything-http'), await m2mToken('mcp:everything-http'));
        const upstreamId = /Session initialized with ID: (\S+)/.exec(
          everythingHttp?.output().slice(mark) ?? '',
        )?.[1];
        assert.ok(upstreamId, 'the gateway opened no upstream session on initialize');
        const ended = await fetch(url('everything-http'), {
          method: 'DELETE',
          headers: { authorization: `Bearer ${session.token}`, 'mcp-session-id': session.sessionId },
          signal: AbortSignal.timeout(10_000),
        });
        await ended.body?.cancel();
        assert.equal(ended.status, 204);
        const terminated = await eventually(
          () =>
            everythingHttp
              ?.output()
              .includes(`Received session termination request for session ${upstreamId}`)
              ? true
              : undefined,
          5_000,
        );
        assert.ok(terminated, `upstream session ${upstreamId} is still open at everything-http`);
      },
    );

    it(
      'files: bob neither sees nor runs the admin-only write_file (403 step-up); alice runs it after step-up',
      CASE,
      async () => {
        const bobToken = await userToken('bob', 'openid mcp:files mcp:admin');
        const bobSubject = String(decodeJwtPayload(bobToken).sub);
        assert.ok(
          !String(decodeJwtPayload(bobToken).scope).split(' ').includes('mcp:admin'),
          'Keycloak gave bob mcp:admin',
        );
        const bob = await McpSession.open(url('files'), bobToken);
        const bobTools = await bob.toolNames();
        assert.ok(bobTools.includes('read_text_file'), bobTools.join(', '));
        assert.ok(!bobTools.includes('write_file'), 'bob sees write_file');

        const countKey = `mcp:upstream:files:usage:${bobSubject}`;
        const countBefore = Number((await valkey.get(countKey)) ?? 0);
        const mark = gateway.output().length;
        const bobWrite = await bob.callTool('write_file', {
          path: join(filesDir, 'bob.txt'),
          content: 'bob was here',
        });
        assert.equal(bobWrite.answer.status, 403);
        assert.equal(bobWrite.error?.code, FORBIDDEN);
        const challenge = bobWrite.answer.headers.get('www-authenticate');
        assert.match(challenge ?? '', /error="insufficient_scope"/);
        assert.deepEqual(challengedScope(challenge), ['mcp:admin', 'mcp:files']);
        assert.ok(
          challenge?.startsWith(`Bearer resource_metadata="${metadataUrl('files')}"`),
          challenge ?? '',
        );
        assert.equal(existsSync(join(filesDir, 'bob.txt')), false, 'the upstream ran the refused call');
        assert.equal(Number((await valkey.get(countKey)) ?? 0), countBefore, 'a refused call was counted');
        const refusedLine = await eventually(
          () => auditLines(gateway, mark).find((l) => l.tool === 'write_file' && l.subject === bobSubject),
          5_000,
        );
        assert.equal(refusedLine?.outcome, 'insufficient_scope', JSON.stringify(refusedLine));

        const aliceFirst = await userToken('alice', 'openid mcp:files');
        const alice = await McpSession.open(url('files'), aliceFirst);
        assert.ok(
          !(await alice.toolNames()).includes('write_file'),
          'alice without mcp:admin sees write_file',
        );
        const target = join(filesDir, 'alice.txt');
        const denied = await alice.callTool('write_file', { path: target, content: 'alice was here' });
        assert.equal(denied.answer.status, 403);
        assert.deepEqual(challengedScope(denied.answer.headers.get('www-authenticate')), [
          'mcp:admin',
          'mcp:files',
        ]);

        // Step-up: the challenged scopes, SSO (no password again); the same session, same subject, new token.
        const stepped = await userToken(
          'alice',
          `openid ${challengedScope(denied.answer.headers.get('www-authenticate')).join(' ')}`,
        );
        const claims = decodeJwtPayload(stepped);
        assert.ok(String(claims.scope).split(' ').includes('mcp:admin'), String(claims.scope));
        alice.token = stepped;
        assert.ok(
          (await alice.toolNames()).includes('write_file'),
          'alice after step-up does not see write_file',
        );
        const written = await alice.callTool('write_file', { path: target, content: 'alice was here' });
        assert.equal(written.answer.status, 200);
        assert.equal(written.result?.isError ?? false, false, JSON.stringify(written));
        assert.equal(readFileSync(target, 'utf8'), 'alice was here');
      },
    );

    it(
      'progress notifications of a long call arrive over SSE with the caller’s own progressToken',
      CASE,
      async () => {
        const session = await McpSession.open(url('everything-http'), await m2mToken('mcp:everything-http'));
        const call = await session.callTool(
          'trigger-long-running-operation',
          { duration: 2, steps: 4 },
          { progressToken: 'caller-progress-7' },
        );
        assert.equal(call.answer.status, 200);
        assert.equal(call.answer.streamed, true, 'the answer was not an SSE stream');
        const progress = call.answer.messages.filter(
          (
            m,
          ): m is JSONRPCMessage & { params: { progress: number; total: number; progressToken: unknown } } =>
            'method' in m && m.method === 'notifications/progress',
        );
        assert.ok(progress.length >= 3, `progress events: ${JSON.stringify(progress)}`);
        assert.ok(
          progress.every((p) => p.params.progressToken === 'caller-progress-7'),
          JSON.stringify(progress),
        );
        assert.deepEqual(
          progress.map((p) => p.params.progress),
          [1, 2, 3, 4].slice(0, progress.length),
        );
        assert.ok('result' in (call.answer.messages.at(-1) as object), 'the response is not the last event');
        assert.match(resultText(call.result), /Long running operation completed/);
      },
    );

    it(
      "a caller cannot cancel another caller's call: notifications/cancelled with its id on one's own session",
      CASE,
      async () => {
        const bob = await McpSession.open(
          url('everything-http'),
          await userToken('bob', 'openid mcp:everything-http'),
        );
        const other = await McpSession.open(url('everything-http'), await m2mToken('mcp:everything-http'));

        const bobs = longCall(bob, { duration: 3, steps: 3 }, { id: 'shared-id-42' });
        assert.equal(await bobs.progressed, true, 'the call ended before its first progress');
        const cancel = await other.notify('notifications/cancelled', {
          requestId: 'shared-id-42',
          reason: 'not mine',
        });
        assert.equal(cancel.status, 202);
        const bobResult = await bobs.done;
        assert.equal(
          bobResult.error,
          undefined,
          `bob's call was cancelled by another caller: ${JSON.stringify(bobResult.error)}`,
        );
        assert.match(resultText(bobResult.result), /completed/);

        // The control: the same notification on the caller's own session does cancel.
        const own = longCall(bob, { duration: 3, steps: 3 }, { id: 'own-id-43' });
        assert.equal(await own.progressed, true, 'the call ended before its first progress');
        assert.equal((await bob.notify('notifications/cancelled', { requestId: 'own-id-43' })).status, 202);
        const ownResult = await own.done;
        assert.equal(ownResult.result, undefined, 'cancelling its own call did nothing');
        assert.ok(ownResult.error, JSON.stringify(ownResult.answer.messages));
      },
    );

    it(
      'an upstream slower than its timeoutSeconds (5 s) gets the caller a JSON-RPC timeout error; the session goes on',
      CASE,
      async () => {
        const session = await McpSession.open(url('fastmcp'), await m2mToken('mcp:fastmcp'));
        const mark = gateway.output().length;
        const cancelledBefore = (fastmcp?.output().match(/slow cancelled/g) ?? []).length;
        const slow = await session.callTool('slow', { seconds: 20 }, { timeoutMs: 30_000 });
        assert.equal(slow.answer.status, 200);
        assert.equal(slow.result, undefined);
        assert.equal(slow.error?.code, REQUEST_TIMEOUT, JSON.stringify(slow.error));
        const told = await eventually(
          () =>
            (fastmcp?.output().match(/slow cancelled/g) ?? []).length > cancelledBefore ? true : undefined,
          3_000,
        );
        assert.ok(told, 'the upstream was not told that the gateway gave up on the call');
        const line = await eventually(() => auditLines(gateway, mark).find((l) => l.tool === 'slow'), 5_000);
        assert.equal(line?.outcome, 'timeout', JSON.stringify(line));
        const sum = await session.callTool('add', { a: 20, b: 22 });
        assert.equal(resultText(sum.result), '42', JSON.stringify(sum));
      },
    );

    it(
      'a caller that goes away mid-call: the gateway cancels the call at the upstream (notifications/cancelled)',
      CASE,
      async () => {
        const session = await McpSession.open(url('fastmcp'), await m2mToken('mcp:fastmcp'));
        const count = (pattern: RegExp) => (fastmcp?.output().match(pattern) ?? []).length;
        const [startedBefore, cancelledBefore] = [count(/slow started/g), count(/slow cancelled/g)];
        const mark = gateway.output().length;
        const caller = new AbortController();
        const call = postMcp(
          url('fastmcp'),
          {
            jsonrpc: '2.0',
            id: 'leaving',
            method: 'tools/call',
            params: { name: 'slow', arguments: { seconds: 4 } },
          },
          { token: session.token, sessionId: session.sessionId, signal: caller.signal },
        ).catch((error: unknown) => error);
        assert.ok(
          await eventually(() => (count(/slow started/g) > startedBefore ? true : undefined), 10_000),
        );
        caller.abort();
        await call;
        const cancelled = await eventually(
          () => (count(/slow cancelled/g) > cancelledBefore ? true : undefined),
          3_000,
        );
        assert.ok(cancelled, `FastMCP was not told: ${fastmcp?.output().slice(-500)}`);
        const line = await eventually(() => auditLines(gateway, mark).find((l) => l.tool === 'slow'), 5_000);
        assert.equal(line?.outcome, 'cancelled', JSON.stringify(line));
      },
    );

    it("the caller's token never reaches the upstream", CASE, async () => {
      const token = await m2mToken('mcp:fastmcp');
      const session = await McpSession.open(url('fastmcp'), token);
      const seen = await session.callTool('seen_headers');
      assert.equal(seen.result?.isError ?? false, false, JSON.stringify(seen));
      const headers = (seen.result?.structuredContent ?? JSON.parse(resultText(seen.result))) as Record<
        string,
        string
      >;
      assert.ok(Object.keys(headers).length > 0, 'the fixture saw no headers at all');
      assert.equal(
        headers.authorization,
        undefined,
        `the upstream got authorization: ${headers.authorization}`,
      );
      const signature = token.split('.')[2] as string;
      assert.ok(!JSON.stringify(headers).includes(signature), 'the token is in a header the upstream got');
    });

    it(
      'FastMCP killed mid-call: that caller gets a JSON-RPC error, other upstreams keep answering, and it is used again once back',
      CASE,
      async () => {
        const session = await McpSession.open(url('fastmcp'), await m2mToken('mcp:fastmcp'));
        const startedBefore = (fastmcp?.output().match(/slow started/g) ?? []).length;
        const call = session.callTool('slow', { seconds: 60 }, { timeoutMs: 30_000 });
        await eventually(
          () => ((fastmcp?.output().match(/slow started/g) ?? []).length > startedBefore ? true : undefined),
          10_000,
        );
        assert.ok(
          (fastmcp?.output().match(/slow started/g) ?? []).length > startedBefore,
          'the slow call never started',
        );
        fastmcp?.kill('SIGKILL');
        await fastmcp?.exited;
        const answered = await call;
        assert.equal(answered.answer.status, 200);
        assert.equal(answered.result, undefined);
        assert.ok(answered.error, `no JSON-RPC error: ${JSON.stringify(answered.answer.messages)}`);

        const http = await McpSession.open(url('everything-http'), await m2mToken('mcp:everything-http'));
        assert.match(
          resultText((await http.callTool('echo', { message: 'still here' })).result),
          /still here/,
        );
        const files = await McpSession.open(url('files'), await m2mToken('mcp:files'));
        assert.match(
          resultText((await files.callTool('read_text_file', { path: join(filesDir, 'hello.txt') })).result),
          /hello/,
        );

        fastmcp = await startFastMcp();
        const errors: string[] = [];
        const back = await eventually(async () => {
          const sum = await session.callTool('add', { a: 1, b: 1 }, { timeoutMs: 10_000 });
          if (resultText(sum.result) === '2') return sum;
          errors.push(`${sum.answer.status} ${JSON.stringify(sum.error ?? sum.answer.text)}`);
          return undefined;
        }, 30_000);
        assert.ok(back, `the gateway did not use the restarted FastMCP within 30 s: ${errors.join(' | ')}`);
      },
    );

    it(
      'a stdio upstream killed mid-call: its caller gets a JSON-RPC error, another subject’s process is untouched, and it comes back by itself',
      CASE,
      async () => {
        const scope = 'openid mcp:everything-stdio';
        const before = everythingChildren();
        const alice = await McpSession.open(url('everything-stdio'), await userToken('alice', scope));
        const afterAlice = everythingChildren();
        const alicePids = [...afterAlice].filter((pid) => !before.has(pid));
        // alice and bob use everything-stdio here first: the cases after this one may start their processes earlier.
        assert.equal(alicePids.length, 1, `alice's initialize started ${alicePids.length} processes`);
        const alicePid = alicePids[0] as number;
        const bob = await McpSession.open(url('everything-stdio'), await userToken('bob', scope));
        const bobPids = [...everythingChildren()].filter((pid) => !afterAlice.has(pid));
        assert.equal(bobPids.length, 1, 'bob did not get a process of his own');
        const bobAgain = await McpSession.open(url('everything-stdio'), bob.token);
        assert.equal(
          everythingChildren().size,
          afterAlice.size + 1,
          "bob's second session started another process",
        );

        const mark = gateway.output().length;
        const call = longCall(alice, { duration: 60, steps: 60 }, { timeoutMs: 30_000 });
        assert.equal(await call.progressed, true, 'the call ended before its first progress');
        process.kill(alicePid, 'SIGKILL');
        const answered = await call.done;
        assert.equal(answered.result, undefined);
        assert.ok(answered.error, `no JSON-RPC error: ${JSON.stringify(answered.answer.messages)}`);
        const line = await eventually(
          () => auditLines(gateway, mark).find((l) => l.tool === 'trigger-long-running-operation'),
          5_000,
        );
        assert.equal(line?.outcome, 'unavailable', JSON.stringify(line));

        // bob's process is his own: it was not killed and answers at once, on both his sessions.
        assert.match(resultText((await bob.callTool('echo', { message: 'bob fine' })).result), /bob fine/);
        assert.match(
          resultText((await bobAgain.callTool('echo', { message: 'bob again' })).result),
          /bob again/,
        );

        // alice's comes back without anyone asking: poll her session's tools/list.
        const statuses: string[] = [];
        const back = await eventually(async () => {
          const answer = await alice.request('tools/list', {}, { timeoutMs: 10_000 });
          const ok = answer.status === 200 && answer.messages.some((m) => 'result' in m);
          if (!ok) statuses.push(`${answer.status} ${JSON.stringify(answer.messages)}`);
          return ok ? true : undefined;
        }, 30_000);
        assert.ok(back, `alice's process did not come back within 30 s: ${statuses.join(' | ')}`);
        const restarted = [...everythingChildren()].filter(
          (pid) => !afterAlice.has(pid) && !bobPids.includes(pid),
        );
        assert.equal(restarted.length, 1, 'no new process for alice');
        assert.notEqual(restarted[0], alicePid);
        assert.match(
          resultText((await alice.callTool('echo', { message: 'alice back' })).result),
          /alice back/,
        );

        // /readyz tells of it, without an upstream's address.
        const ready = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(10_000) });
        const readyText = await ready.text();
        const report = (JSON.parse(readyText) as { upstreams?: Record<string, { restarts?: number }> })
          .upstreams;
        assert.ok((report?.['everything-stdio']?.restarts ?? 0) >= 1, readyText);
        assert.deepEqual(Object.keys(report ?? {}).sort(), [...NAMES].sort());
        assert.ok(
          !/127\.0\.0\.1|node_modules/.test(readyText),
          `an upstream address in /readyz: ${readyText}`,
        );
      },
    );

    it(
      "an upstream's notifications outside a call reach only the caller whose upstream session sent them",
      CASE,
      async () => {
        // server-everything's toggle-simulated-logging: log messages every 5 s to the session that asked,
        // not tied to any request. Both upstream modes: one HTTP session per caller, one process per subject.
        const isLog = (m: JSONRPCMessage) => 'method' in m && m.method === 'notifications/message';
        for (const name of ['everything-http', 'everything-stdio'] as const) {
          const scope = `openid mcp:${name}`;
          const alice = await McpSession.open(url(name), await userToken('alice', scope));
          const bob = await McpSession.open(url(name), await userToken('bob', scope));
          const toggled = await alice.callTool('toggle-simulated-logging');
          assert.match(resultText(toggled.result), /Started simulated/, JSON.stringify(toggled));
          try {
            // Both listen through a call longer than the 5 s pace; only alice's may carry the log messages.
            const [heard, overheard] = await Promise.all([
              longCall(alice, { duration: 7, steps: 2 }).done,
              longCall(bob, { duration: 7, steps: 2 }).done,
            ]);
            assert.ok(
              heard.answer.messages.some(isLog),
              `${name}: alice heard none of her own log messages: ${JSON.stringify(heard.answer.messages)}`,
            );
            assert.deepEqual(
              overheard.answer.messages.filter(isLog),
              [],
              `${name}: bob heard alice's log messages`,
            );
          } finally {
            await alice.callTool('toggle-simulated-logging'); // off again
          }
        }
      },
    );

    it(
      'Valkey counts tool calls per upstream and subject (mcp:upstream:<name>:usage:<sub>), apart from the built-in count',
      CASE,
      async () => {
        const token = await m2mToken('mcp:fastmcp');
        const subject = String(decodeJwtPayload(token).sub);
        const upstreamKey = `mcp:upstream:fastmcp:usage:${subject}`;
        const otherKey = `mcp:upstream:everything-http:usage:${subject}`;
        const builtinKey = `mcp:usage:${subject}`;
        const read = async (key: string) => Number((await valkey.get(key)) ?? 0);
        const [upstreamBefore, otherBefore, builtinBefore] = [
          await read(upstreamKey),
          await read(otherKey),
          await read(builtinKey),
        ];
        assert.ok(upstreamBefore >= 1, 'earlier fastmcp calls of this subject were not counted');
        const session = await McpSession.open(url('fastmcp'), token);
        for (const a of [1, 2, 3])
          assert.equal(resultText((await session.callTool('add', { a, b: 0 })).result), String(a));
        await session.toolNames(); // not a tool call
        assert.equal(await read(upstreamKey), upstreamBefore + 3);
        assert.equal(await read(otherKey), otherBefore, "another upstream's count moved");
        assert.equal(await read(builtinKey), builtinBefore, 'the built-in count moved');
      },
    );

    it(
      'one audit line per tool call on stdout: subject, clientId, upstream, tool, outcome, durationMs — no arguments',
      CASE,
      async () => {
        const token = await m2mToken('mcp:everything-http');
        const subject = String(decodeJwtPayload(token).sub);
        const session = await McpSession.open(url('everything-http'), token);
        const marker = `audit-marker-${crypto.randomUUID()}`;
        const mark = gateway.output().length;
        await session.callTool('echo', { message: marker });
        await session.toolNames();
        await session.callTool('echo', { message: `${marker}-2` });
        const lines = await eventually(() => {
          const found = auditLines(gateway, mark);
          return found.length >= 2 ? found : undefined;
        }, 5_000);
        await sleep(500); // a third line, if any, would be written by now
        assert.equal(auditLines(gateway, mark).length, 2, JSON.stringify(lines));
        for (const line of lines ?? []) {
          assert.equal(line.subject, subject);
          assert.equal(line.clientId, card.clients.m2m?.clientId);
          assert.equal(line.upstream, 'everything-http');
          assert.equal(line.tool, 'echo');
          assert.equal(line.outcome, 'ok');
          assert.equal(typeof line.durationMs, 'number');
          assert.ok(!('arguments' in line), JSON.stringify(line));
        }
        assert.ok(!gateway.output().includes(marker), "the gateway logged a call's arguments");
      },
    );
  },
);
