// mcp-remote (npm) bridging stdio to our server, as Claude Desktop and other stdio-only hosts use it. The MCP
// client is the SDK's stdio client spawning mcp-remote; mcp-remote does discovery, DCR and PKCE itself and
// "opens a browser": a stand-in xdg-open on PATH hands the authorization URL to headless Chromium, which logs
// in on Keycloak's form and lands on mcp-remote's own loopback callback.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Browser } from 'playwright-core';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { toolJson } from '../e2e/support/mcpClient.ts';
import { freePort } from '../e2e/support/mcpServerProcess.ts';
import { loadStack, user } from '../e2e/support/stack.ts';
import { launchChromium, logInAt, screenshotDir } from './support/browser.ts';
import { keycloakAdmin } from './support/consoleClient.ts';

const execFileAsync = promisify(execFile);
const require = createRequire(import.meta.url);
const MCP_REMOTE = join(dirname(require.resolve('mcp-remote/package.json')), 'dist', 'proxy.js');

describe(
  'mcp-remote (stdio ↔ Streamable HTTP with OAuth) and MCP Inspector CLI through it',
  { concurrency: false },
  () => {
    let card: StackCard;
    let browser: Browser;
    let work: string;
    let client: Client;
    let stderr = '';
    let callbackPort: number;

    before(async () => {
      card = await loadStack();
      browser = await launchChromium();
      work = await mkdtemp(join(tmpdir(), 'mcp-remote-test-'));
      callbackPort = await freePort();
    });
    after(async () => {
      await client?.close();
      await browser?.close();
      const clientIds = await registeredClientIds(join(work, 'config')).catch(() => []);
      if (card && clientIds.length > 0) {
        const admin = await keycloakAdmin(card);
        for (const clientId of clientIds) {
          const [found] = await admin.clients.find({ clientId });
          if (found?.id) await admin.clients.del({ id: found.id });
        }
      }
      if (work) await rm(work, { recursive: true, force: true });
    });

    it('logs in through the browser it opens, then calls whoami over stdio', async () => {
      const bin = join(work, 'bin');
      const opened = join(work, 'opened-url');
      await mkdir(bin);
      // What `open` runs on Linux: record the URL instead of starting a desktop browser.
      await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
      await chmod(join(bin, 'xdg-open'), 0o755);

      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [
          MCP_REMOTE,
          card.mcpUrl,
          String(callbackPort),
          // Its defaults, as users configure it: the registration carries client_uri https://github.com/…,
          // which the realm's Trusted Hosts DCR policy has to accept.
          '--allow-http',
        ],
        env: {
          PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
          HOME: work,
          MCP_REMOTE_CONFIG_DIR: join(work, 'config'),
        },
        stderr: 'pipe',
      });
      transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      client = new Client({ name: 'mcp-remote-test', version: '0.1.0' });
      const connected = client.connect(transport);

      const url = await authorizationUrlFrom(opened, () => stderr);
      assert.equal(url.origin + url.pathname, `${card.issuer}/protocol/openid-connect/auth`);
      assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(url.searchParams.get('redirect_uri'), `http://localhost:${callbackPort}/oauth/callback`);

      await logInAt(browser, url, user(card, 'alice'), {
        done: (u) => u.port === String(callbackPort), // it asks prompt=consent
        shots: await screenshotDir('mcp-remote'),
        name: '',
        client: 'mcp-remote',
      });

      await connected;
      const tools = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(tools.includes('whoami'), `tools: ${tools.join(', ')}`);
      const whoami = toolJson(await client.callTool({ name: 'whoami', arguments: {} }));
      assert.equal(whoami.username, 'alice');
      const [clientId] = await registeredClientIds(join(work, 'config'));
      assert.equal(whoami.clientId, clientId, 'the token was not issued to the client mcp-remote registered');
    });
    it('MCP Inspector CLI mode calls whoami through mcp-remote, which reuses the saved tokens (no new login)', async () => {
      // Inspector 0.15 is the last release for Node 20; its CLI mode has no OAuth flow or --header of its own,
      // so it reaches an OAuth-protected server the way stdio hosts do: through mcp-remote.
      const inspector = join(
        dirname(require.resolve('@modelcontextprotocol/inspector/package.json')),
        'cli',
        'build',
        'cli.js',
      );
      const { stdout } = await execFileAsync(
        process.execPath,
        [
          inspector,
          '--cli',
          process.execPath,
          MCP_REMOTE,
          card.mcpUrl,
          String(callbackPort),
          '--allow-http',
          '--method',
          'tools/call',
          '--tool-name',
          'whoami',
        ],
        { env: { ...process.env, HOME: work, MCP_REMOTE_CONFIG_DIR: join(work, 'config') }, timeout: 60_000 },
      );
      const result = JSON.parse(stdout) as { structuredContent?: { username?: string; clientId?: string } };
      assert.equal(result.structuredContent?.username, 'alice');
      const [clientId] = await registeredClientIds(join(work, 'config'));
      assert.equal(result.structuredContent?.clientId, clientId);
    });
  },
);

/** The URL the stand-in xdg-open received, or (if `open` took another way) the one mcp-remote printed. */
async function authorizationUrlFrom(
  openedFile: string,
  output: () => string,
  exited: () => boolean = () => false,
): Promise<URL> {
  for (let attempt = 0; attempt < 150 && !exited(); attempt += 1) {
    const opened = await readFile(openedFile, 'utf8').catch(() => '');
    if (opened) return new URL(opened);
    const printed = /Please authorize this client by visiting:\s*(\S+)/.exec(output())?.[1];
    if (printed) return new URL(printed);
    if (/Fatal error/.test(output())) break;
    await sleep(200);
  }
  throw new Error(`mcp-remote never asked for an authorization:\n${output()}`);
}

/** mcp-remote keeps what DCR returned in <config dir>/mcp-remote-<version>/<hash>_client_info.json. */
async function registeredClientIds(configDir: string): Promise<string[]> {
  const ids: string[] = [];
  for (const dir of await readdir(configDir)) {
    for (const name of await readdir(join(configDir, dir)).catch(() => [] as string[])) {
      if (!name.endsWith('_client_info.json')) continue;
      const info = JSON.parse(await readFile(join(configDir, dir, name), 'utf8')) as { client_id?: string };
      if (info.client_id) ids.push(info.client_id);
    }
  }
  return ids;
}
