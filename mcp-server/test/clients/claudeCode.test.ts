// Claude Code (the native build of npm @anthropic-ai/claude-code, pinned in setup-claude-code.sh, which npm test
// runs) with its own MCP OAuth, no model involved: the command lines the seed prints (`npm run seed -- configs
// claude-code`) add the server, `claude mcp list` finds that it needs authentication, and the login runs through
// Claude Code's stream-json control protocol (the one its Agent SDK speaks): `mcp_authenticate` is what the TUI's
// /mcp → Authenticate calls (discovery from the 401 and metadata, DCR unless a client id is configured, PKCE S256,
// a loopback callback listener) and answers the Keycloak URL instead of opening a browser; headless Chromium logs
// in on Keycloak's form and lands on that listener; `mcp_status` then shows the server connected with its tools,
// and a later `claude mcp list` connects with the stored tokens. A dummy API key: nothing here reaches a model.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { hostConfigs } from '@mcp-keycloak-stack/seed/hostConfigs';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { loadStack, user } from '../e2e/support/stack.ts';
import {
  assertMcpAuthorizationRequest,
  deleteRegisteredClients,
  METADATA_SCOPES_WITH_REFRESH,
  noteRegisteredClient,
} from './support/authorizationRequest.ts';
import { launchChromium, logInAt, screenshotDir } from './support/browser.ts';
import { keycloakAdmin } from './support/consoleClient.ts';
import { cacheDir } from './support/node22.ts';

/** The release setup-claude-code.sh fetches (keep the two in step). */
const CLAUDE_CODE_VERSION = '2.1.332';
const SETUP_SCRIPT = 'mcp-server/test/clients/setup-claude-code.sh';
/** The server name in the printed command lines. */
const SERVER_NAME = 'mcp-keycloak-stack';

function claudeBin(): string {
  return join(
    process.env.CLAUDE_CODE_DIR ?? join(cacheDir(), `claude-code-${CLAUDE_CODE_VERSION}`),
    'package',
    'claude',
  );
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface ServerStatus {
  name: string;
  status: string;
  tools?: { name: string }[];
}

interface StoredLogin {
  clientId?: string;
  accessToken?: string;
}

describe(
  'Claude Code with its own MCP OAuth (discovery → DCR → PKCE), no model',
  { concurrency: false },
  () => {
    let card: StackCard;
    let browser: Browser;
    let work: string;
    let shots: string;
    const registeredClientIds: string[] = [];

    /** HOME and CLAUDE_CONFIG_DIR in work/<home>; telemetry, updates and other outside traffic off. */
    function env(home: string): NodeJS.ProcessEnv {
      return {
        PATH: process.env.PATH ?? '',
        HOME: join(work, home),
        CLAUDE_CONFIG_DIR: join(work, home, '.claude'),
        ANTHROPIC_API_KEY: 'sk-ant-not-used',
        DISABLE_AUTOUPDATER: '1',
        DISABLE_TELEMETRY: '1',
        DISABLE_ERROR_REPORTING: '1',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        NO_COLOR: '1',
        BROWSER: 'true', // the control protocol asks for no browser; should one be opened, nothing happens
      };
    }

    /** `claude <args>` run to its end in the project directory work/<home>/project. */
    function claude(home: string, args: string[]): Promise<Run> {
      const run: Run = { code: null, stdout: '', stderr: '' };
      const child = spawn(claudeBin(), args, {
        cwd: join(work, home, 'project'),
        env: env(home),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (d: Buffer) => (run.stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (run.stderr += d.toString()));
      return new Promise((resolve) =>
        child.once('exit', (code) => {
          run.code = code;
          resolve(run);
        }),
      );
    }

    /** `claude -p` speaking stream-json: control requests in, their responses out (no user message is sent). */
    function controlSession(home: string): {
      request: (request: Record<string, unknown>) => Promise<Record<string, unknown>>;
      close: () => Promise<void>;
      output: () => string;
    } {
      const child = spawn(
        claudeBin(),
        ['-p', '--input-format', 'stream-json', '--output-format', 'stream-json', '--verbose'],
        { cwd: join(work, home, 'project'), env: env(home), stdio: ['pipe', 'pipe', 'pipe'] },
      );
      let log = '';
      let exited = false;
      const pending = new Map<string, (response: Record<string, unknown>) => void>();
      const exit = new Promise<void>((resolve) =>
        child.once('exit', () => {
          exited = true;
          for (const fail of pending.values()) fail({ subtype: 'error', error: `claude exited:\n${log}` });
          resolve();
        }),
      );
      child.stderr.on('data', (d: Buffer) => (log += d.toString()));
      createInterface({ input: child.stdout }).on('line', (line) => {
        log += `${line.slice(0, 2000)}\n`;
        let message: { type?: string; response?: { request_id?: string } & Record<string, unknown> };
        try {
          message = JSON.parse(line) as typeof message;
        } catch {
          return;
        }
        const id = message.response?.request_id;
        if (message.type === 'control_response' && id) pending.get(id)?.(message.response ?? {});
      });
      let counter = 0;
      return {
        request(request) {
          const id = `test-${(counter += 1)}`;
          const answered = new Promise<Record<string, unknown>>((resolve) => pending.set(id, resolve));
          if (!exited)
            child.stdin.write(`${JSON.stringify({ type: 'control_request', request_id: id, request })}\n`);
          return answered;
        },
        async close() {
          child.stdin.end();
          const timer = setTimeout(() => child.kill(), 5000);
          await exit;
          clearTimeout(timer);
        },
        output: () => log,
      };
    }

    /** The response of a control request that must succeed. */
    function success(response: Record<string, unknown>, output: () => string): Record<string, unknown> {
      assert.equal(response.subtype, 'success', `${JSON.stringify(response)}\n${output()}`);
      return (response.response ?? {}) as Record<string, unknown>;
    }

    /**
     * Adds the server with `addArgs` (a printed `claude mcp add …` line, without `claude`) in HOME work/<home>, checks
     * that `claude mcp list` reports it as needing authentication, runs `mcp_authenticate`, logs `who` in through
     * Chromium on the returned URL and waits (bounded polling) until `mcp_status` shows the server connected.
     */
    async function addAndLogin(
      home: string,
      who: string,
      addArgs: string[],
    ): Promise<{ url: URL; server: ServerStatus; stored: StoredLogin }> {
      await mkdir(join(work, home, 'project'), { recursive: true });
      const added = await claude(home, addArgs);
      assert.equal(added.code, 0, `${added.stderr}\n${added.stdout}`);
      const before = await claude(home, ['mcp', 'list']);
      assert.match(before.stdout, new RegExp(`${SERVER_NAME}: .*Needs authentication`), before.stdout);

      const session = controlSession(home);
      try {
        success(await session.request({ subtype: 'initialize' }), session.output);
        const started = success(
          await session.request({ subtype: 'mcp_authenticate', serverName: SERVER_NAME }),
          session.output,
        );
        assert.equal(started.requiresUserAction, true, session.output());
        const url = new URL(String(started.authUrl));
        noteRegisteredClient(card, url, registeredClientIds);

        browser ??= await launchChromium();
        const redirect = url.searchParams.get('redirect_uri') ?? '';
        await logInAt(browser, url, user(card, who), {
          done: (u) => u.href.startsWith(redirect),
          shots,
          name: home,
          client: 'claude-code',
        });

        let server: ServerStatus | undefined;
        for (let attempt = 0; attempt < 100; attempt += 1) {
          const status = success(await session.request({ subtype: 'mcp_status' }), session.output);
          server = (status.mcpServers as ServerStatus[] | undefined)?.find((s) => s.name === SERVER_NAME);
          if (server?.status === 'connected') break;
          await sleep(200);
        }
        assert.equal(server?.status, 'connected', session.output());
        return { url, server, stored: await storedLogin(home) };
      } finally {
        await session.close();
      }
    }

    /** What Claude Code stored for the server (CLAUDE_CONFIG_DIR/.credentials.json where there is no keychain). */
    async function storedLogin(home: string): Promise<StoredLogin> {
      const file = join(work, home, '.claude', '.credentials.json');
      const stored = JSON.parse(await readFile(file, 'utf8')) as { mcpOAuth?: Record<string, StoredLogin> };
      const [entry] = Object.entries(stored.mcpOAuth ?? {}).filter(([key]) =>
        key.startsWith(`${SERVER_NAME}|`),
      );
      assert.ok(entry, `no stored login for ${SERVER_NAME} in ${file}`);
      return entry[1];
    }

    /** The printed command lines: `claude mcp add …` with DCR, and the one with the seeded client id. */
    function printedLines(): { dcr: string[]; preset: string[] } {
      const lines = (hostConfigs(card).find((b) => b.host === 'claude-code')?.text ?? '')
        .split('\n')
        .map((line) => line.replace(/^# without DCR: /, ''))
        .filter((line) => line.startsWith('claude mcp add '))
        .map((line) => line.split(' ').slice(1));
      assert.equal(lines.length, 2, 'two printed command lines');
      const [dcr, preset] = lines as [string[], string[]];
      assert.ok(!dcr.includes('--client-id'), dcr.join(' '));
      assert.ok(preset.includes('--client-id'), preset.join(' '));
      return { dcr, preset };
    }

    before(async () => {
      if (!existsSync(claudeBin())) {
        throw new Error(`missing ${claudeBin()}: npm test provisions it (bash ${SETUP_SCRIPT})`);
      }
      card = await loadStack();
      work = await mkdtemp(join(tmpdir(), 'claude-code-test-'));
      shots = await screenshotDir('claude-code');
    });
    after(async () => {
      await browser?.close();
      if (work) await rm(work, { recursive: true, force: true });
      await deleteRegisteredClients(card, registeredClientIds);
    });

    it(`is the pinned release (${CLAUDE_CODE_VERSION})`, async () => {
      await mkdir(join(work, 'version', 'project'), { recursive: true });
      const run = await claude('version', ['--version']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^${CLAUDE_CODE_VERSION.replaceAll('.', '\\.')} `));
    });

    it('the printed line: registers itself (DCR), logs alice in with PKCE S256, connects with the tools', async () => {
      const { dcr } = printedLines();
      assert.deepEqual(dcr, ['mcp', 'add', '--transport', 'http', SERVER_NAME, card.mcpUrl]);
      const { url, server, stored } = await addAndLogin('alice', 'alice', dcr);

      // The scopes of the server's metadata, and offline_access for a refresh token.
      assertMcpAuthorizationRequest(url, card, METADATA_SCOPES_WITH_REFRESH);
      // Its listener: http://localhost:<a port it picks>/callback (the loopback rule lets DCR accept it).
      const redirect = new URL(url.searchParams.get('redirect_uri') ?? '');
      assert.equal(
        `${redirect.protocol}//${redirect.hostname}${redirect.pathname}`,
        'http://localhost/callback',
      );

      // The client_id is one Keycloak's anonymous DCR just created, under Claude Code's name for the server.
      const admin = await keycloakAdmin(card);
      const [registered] = await admin.clients.find({ clientId: registeredClientIds[0] ?? '' });
      assert.equal(registered?.name, `Claude Code (${SERVER_NAME})`);
      assert.equal(registered?.publicClient, true);
      assert.deepEqual(registered?.redirectUris, [redirect.href]);

      const tools = (server.tools ?? []).map((t) => t.name);
      assert.ok(tools.includes('whoami'), `tools: ${tools.join(', ')}`);
      // The token it keeps: alice's, for the MCP URL, with mcp:admin (her role lets Keycloak grant it).
      const claims = accessTokenClaims(stored);
      assert.equal(stored.clientId, registered?.clientId);
      assert.equal(claims.azp, registered?.clientId);
      assert.equal(claims.preferred_username, 'alice');
      assert.ok([claims.aud].flat().includes(card.mcpUrl), JSON.stringify(claims.aud));
      assert.ok(claims.scope?.split(' ').includes('mcp:admin'), claims.scope);
    });

    it('a later `claude mcp list` connects with the stored tokens (no second login)', async () => {
      assert.ok(registeredClientIds[0], 'the login test did not run');
      const run = await claude('alice', ['mcp', 'list']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`${SERVER_NAME}: .*Connected`), run.stdout);
    });

    it('the printed line without DCR: the seeded claude-code client on its fixed callback port, bob', async () => {
      const preset = card.clients.presets?.['claude-code'];
      assert.ok(preset, 'the stack card has no claude-code preset (SEED_PRESETS)');
      const { preset: line } = printedLines();
      assert.equal(line[line.indexOf('--client-id') + 1], preset.clientId);
      const port = Number(line[line.indexOf('--callback-port') + 1]);
      assert.ok(port > 0, line.join(' '));
      await untilPortFree(port);

      const { url, server, stored } = await addAndLogin('bob-preset', 'bob', line);
      assert.equal(url.searchParams.get('client_id'), preset.clientId); // no registration
      assert.equal(url.searchParams.get('redirect_uri'), `http://localhost:${port}/callback`);
      assertMcpAuthorizationRequest(url, card, METADATA_SCOPES_WITH_REFRESH);
      assert.ok(
        (server.tools ?? []).some((t) => t.name === 'whoami'),
        JSON.stringify(server),
      );
      const claims = accessTokenClaims(stored);
      assert.equal(claims.azp, preset.clientId);
      assert.equal(claims.preferred_username, 'bob');
      assert.ok(claims.scope?.split(' ').includes('mcp:tools'), claims.scope);
      assert.ok(
        !claims.scope?.split(' ').includes('mcp:admin'),
        `bob's token carries mcp:admin: ${claims.scope}`,
      );
    });
  },
);

function accessTokenClaims(stored: StoredLogin): {
  azp?: string;
  aud?: string | string[];
  preferred_username?: string;
  scope?: string;
} {
  const payload = stored.accessToken?.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as ReturnType<
    typeof accessTokenClaims
  >;
}

/**
 * Waits until the fixed callback port can be bound on 127.0.0.1 (where Claude Code listens): another run on this
 * machine may hold it for the length of its own login.
 */
async function untilPortFree(port: number): Promise<void> {
  const bindable = () =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if (await bindable()) return;
    await sleep(200);
  }
  throw new Error(`127.0.0.1:${port} stays in use: Claude Code cannot take its callback there`);
}
