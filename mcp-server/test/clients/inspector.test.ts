// MCP Inspector v2 (npm @modelcontextprotocol/inspector, pinned in ./inspector/package-lock.json) with its own
// OAuth, no mcp-remote in between: its CLI discovers Keycloak from the MCP server's 401 and metadata, registers
// itself (DCR, loopback callback), sends the person to Keycloak with PKCE S256 and takes the code on its own
// callback listener. Without a terminal it runs that flow only with MCP_AUTO_OPEN_ENABLED=true; it then "opens a
// browser" through the `open` package's xdg-open, which honours BROWSER: a stand-in records the URL and headless
// Chromium logs in on Keycloak's form. Inspector v2 needs Node >= 22: setup-node22-tools.sh provisions Node 22
// and the Inspector in the stack's cache directory (npm test runs it). The last case runs the command lines the
// seed prints (`npm run seed -- configs mcp-inspector`): the seeded `mcp-inspector` client, no registration.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { hostConfigs, INSPECTOR_VERSION } from '@mcp-keycloak-stack/seed/hostConfigs';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { freePort } from '../e2e/support/mcpServerProcess.ts';
import { loadStack, user } from '../e2e/support/stack.ts';
import {
  assertMcpAuthorizationRequest,
  deleteRegisteredClients,
  METADATA_SCOPES_WITH_REFRESH,
  noteRegisteredClient,
} from './support/authorizationRequest.ts';
import { launchChromium, logInAt, screenshotDir } from './support/browser.ts';
import { keycloakAdmin } from './support/consoleClient.ts';
import { assertNode22Tools, inspectorV2Package, node22Bin } from './support/node22.ts';

/** The v2 CLI's callback listener when no --callback-url is given (a redirect URI of the mcp-inspector preset). */
const DEFAULT_CALLBACK_URL = 'http://127.0.0.1:6276/oauth/callback';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('MCP Inspector v2 CLI with its own OAuth (discovery → DCR → PKCE)', { concurrency: false }, () => {
  let card: StackCard;
  let browser: Browser;
  let work: string;
  let shots: string;
  let callbackUrl: string;
  const registeredClientIds: string[] = [];

  /** The Inspector's CLI on Node 22 in HOME work/<home> (secret store: a file there, no keychain here). */
  function inspector(home: string, args: string[]): { done: Promise<Run>; output: () => string } {
    const run: Run = { code: null, stdout: '', stderr: '' };
    const child = spawn(
      node22Bin(),
      [join(inspectorV2Package(), 'clients', 'launcher', 'build', 'index.js'), '--cli', ...args],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: join(work, home),
          NO_COLOR: '1',
          MCP_INSPECTOR_SECRET_STORE: 'file',
          MCP_AUTO_OPEN_ENABLED: 'true',
          BROWSER: join(work, home, 'browser.sh'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.on('data', (d: Buffer) => (run.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (run.stderr += d.toString()));
    const done = new Promise<Run>((resolve) =>
      child.once('exit', (code) => {
        run.code = code;
        resolve(run);
      }),
    );
    return { done, output: () => `${run.stderr}\n${run.stdout}` };
  }

  /** The target and a callback on a free port, for the cases where the Inspector registers itself (DCR). */
  const dcr = (...args: string[]) => [card.mcpUrl, '--callback-url', callbackUrl, ...args];

  /**
   * Runs the Inspector (`args`: the target and options) with no stored login in HOME work/<home> (default `who`):
   * it registers unless given a client id, and asks for an authorization; Chromium (a context of its own per
   * user) logs `who` in on Keycloak's form and lands on the Inspector's callback (default the DCR cases' one).
   */
  async function withLogin(
    who: string,
    args: string[],
    { home = who, callback = callbackUrl }: { home?: string; callback?: string } = {},
  ): Promise<{ run: Run; url: URL; output: () => string }> {
    await mkdir(join(work, home), { recursive: true });
    const opened = join(work, home, 'opened-url');
    await writeFile(join(work, home, 'browser.sh'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
    await chmod(join(work, home, 'browser.sh'), 0o755);
    const { done, output } = inspector(home, args);
    let exited = false;
    void done.then(() => (exited = true));
    const url = await authorizationUrl(opened, output, () => exited);
    // Registered clients are deleted after the tests; a seeded preset never is.
    noteRegisteredClient(card, url, registeredClientIds);

    browser ??= await launchChromium();
    await logInAt(browser, url, user(card, who), {
      done: (u) => u.href.startsWith(callback), // it asks prompt=consent
      shots,
      name: home,
      client: 'inspector',
    });
    return { run: await done, url, output };
  }

  before(async () => {
    assertNode22Tools({ inspector: true });
    card = await loadStack();
    work = await mkdtemp(join(tmpdir(), 'inspector-v2-test-'));
    shots = await screenshotDir('inspector');
    callbackUrl = `http://127.0.0.1:${await freePort()}/oauth/callback`;
  });
  after(async () => {
    await browser?.close();
    if (work) await rm(work, { recursive: true, force: true });
    await deleteRegisteredClients(card, registeredClientIds);
  });

  it('registers itself, logs alice in through Keycloak (PKCE S256) and lists the tools', async () => {
    const { run, url, output } = await withLogin('alice', dcr('--method', 'tools/list', '--format', 'json'));
    // Every scope of the server's metadata (the MCP spec's fallback), and offline_access for a refresh token.
    assertMcpAuthorizationRequest(url, card, METADATA_SCOPES_WITH_REFRESH);
    assert.equal(url.searchParams.get('redirect_uri'), callbackUrl);

    // The client_id is one Keycloak's anonymous DCR just created, under the Inspector's own name.
    const admin = await keycloakAdmin(card);
    const [registered] = await admin.clients.find({ clientId: registeredClientIds[0] ?? '' });
    assert.equal(registered?.name, 'MCP Inspector');
    assert.equal(registered?.publicClient, true);
    assert.deepEqual(registered?.redirectUris, [callbackUrl]);

    assert.equal(run.code, 0, output());
    const listed = JSON.parse(run.stdout) as { result?: { tools?: { name: string }[] } };
    const tools = (listed.result?.tools ?? []).map((t) => t.name);
    assert.ok(tools.includes('whoami'), `tools: ${tools.join(', ')}`);
  });

  it('calls whoami with the tokens it stored (--stored-auth-only: no second login)', async () => {
    assert.ok(registeredClientIds[0], 'the login test did not run');
    const { done, output } = inspector(
      'alice',
      dcr('--stored-auth-only', '--method', 'tools/call', '--tool-name', 'whoami', '--format', 'json'),
    );
    const run = await done;
    assert.equal(run.code, 0, output());
    const whoami = whoamiResult(run.stdout);
    assert.equal(whoami.username, 'alice');
    assert.equal(whoami.clientId, registeredClientIds[0]);
    // alice holds the role mcp-admin, so Keycloak grants the mcp:admin the Inspector asked for.
    assert.ok(whoami.scopes?.includes('mcp:tools'), output());
    assert.ok(whoami.scopes?.includes('mcp:admin'), output());
  });

  it('bob: the same registration and request for mcp:admin, but Keycloak leaves it out (role gate)', async () => {
    const { run, output } = await withLogin(
      'bob',
      dcr('--method', 'tools/call', '--tool-name', 'whoami', '--format', 'json'),
    );
    assert.equal(run.code, 0, output());
    const whoami = whoamiResult(run.stdout);
    assert.equal(whoami.username, 'bob');
    assert.equal(whoami.clientId, registeredClientIds[1]);
    assert.ok(whoami.scopes?.includes('mcp:tools'), output());
    assert.ok(!whoami.scopes?.includes('mcp:admin'), `bob's token carries mcp:admin: ${output()}`);
  });

  it('the printed config: the seeded mcp-inspector client (--client-id, default callback), then whoami', async () => {
    const preset = card.clients.presets?.['mcp-inspector'];
    assert.ok(preset, 'the stack card has no mcp-inspector preset (SEED_PRESETS)');
    assert.ok(preset.redirectUris.includes(DEFAULT_CALLBACK_URL), preset.redirectUris.join(' '));
    const installed = JSON.parse(await readFile(join(inspectorV2Package(), 'package.json'), 'utf8')) as {
      version: string;
    };
    assert.equal(INSPECTOR_VERSION, installed.version, 'the printed version is not the tested one');
    // `npx @modelcontextprotocol/inspector@<version> --cli <args>`, exactly as printed: a login, then stored tokens.
    const printed = (hostConfigs(card).find((b) => b.host === 'mcp-inspector')?.text ?? '')
      .split('\n')
      .filter((line) => line.startsWith('npx '))
      .map((line) => line.split(' '));
    assert.equal(printed.length, 2, 'two printed command lines');
    for (const words of printed) {
      assert.deepEqual(words.slice(0, 3), [
        'npx',
        `@modelcontextprotocol/inspector@${INSPECTOR_VERSION}`,
        '--cli',
      ]);
      assert.deepEqual(words.slice(3, 6), [card.mcpUrl, '--client-id', preset.clientId]);
    }
    const [login, stored] = printed.map((words) => [...words.slice(3), '--format', 'json']);

    await untilPortFree(new URL(DEFAULT_CALLBACK_URL));
    const { run, url, output } = await withLogin('alice', login ?? [], {
      home: 'alice-preset',
      callback: DEFAULT_CALLBACK_URL,
    });
    assert.equal(url.searchParams.get('client_id'), preset.clientId); // no registration
    assert.equal(url.searchParams.get('redirect_uri'), DEFAULT_CALLBACK_URL);
    assertMcpAuthorizationRequest(url, card, METADATA_SCOPES_WITH_REFRESH);
    assert.equal(run.code, 0, output());
    const listed = JSON.parse(run.stdout) as { result?: { tools?: { name: string }[] } };
    assert.ok(
      (listed.result?.tools ?? []).some((t) => t.name === 'whoami'),
      run.stdout,
    );

    const second = inspector('alice-preset', stored ?? []);
    const called = await second.done;
    assert.equal(called.code, 0, second.output());
    const whoami = whoamiResult(called.stdout);
    assert.equal(whoami.username, 'alice');
    assert.equal(whoami.clientId, preset.clientId);
    // The preset's optional scopes hold everything the Inspector asks for; alice's role lets mcp:admin through.
    assert.ok(whoami.scopes?.includes('mcp:tools'), second.output());
    assert.ok(whoami.scopes?.includes('mcp:admin'), second.output());
  });
});

/**
 * Waits until the fixed callback port can be bound: another Inspector login (another test run on this machine)
 * may hold it for the length of its own login.
 */
async function untilPortFree(callback: URL): Promise<void> {
  const bindable = () =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(Number(callback.port), callback.hostname, () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if (await bindable()) return;
    await sleep(200);
  }
  throw new Error(`${callback.host} stays in use: the Inspector cannot take its callback there`);
}

function whoamiResult(stdout: string): { username?: string; clientId?: string; scopes?: string[] } {
  const parsed = JSON.parse(stdout) as {
    result?: { structuredContent?: { username?: string; clientId?: string; scopes?: string[] } };
  };
  return parsed.result?.structuredContent ?? {};
}

/** The URL the stand-in browser received, or the one the Inspector printed ("Please navigate to: …"). */
async function authorizationUrl(
  openedFile: string,
  output: () => string,
  exited: () => boolean,
): Promise<URL> {
  for (let attempt = 0; attempt < 300 && !exited(); attempt += 1) {
    const opened = await readFile(openedFile, 'utf8').catch(() => '');
    if (opened) return new URL(opened);
    const printed = /Please navigate to:\s*(\S+)/.exec(output())?.[1];
    if (printed) return new URL(printed);
    await sleep(200);
  }
  throw new Error(`the Inspector never asked for an authorization:\n${output()}`);
}
