// FastMCP's Python client (PyPI fastmcp) with its OAuth helper against the real stack: it discovers Keycloak,
// registers itself, and opens the authorization URL with Python's webbrowser module; a stand-in browser (the
// BROWSER variable) hands that URL to headless Chromium, which logs in on Keycloak's form and lands on
// FastMCP's loopback callback. The venv comes from .ci/run (or see docs/clients.md, "FastMCP").
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { freePort } from '../e2e/support/mcpServerProcess.ts';
import { loadStack, user } from '../e2e/support/stack.ts';
import { launchChromium, logInAt, screenshotDir } from './support/browser.ts';
import { keycloakAdmin } from './support/consoleClient.ts';

export const FASTMCP_PYTHON =
  process.env.FASTMCP_PYTHON ??
  join(homedir(), '.cache', 'mcp-keycloak-stack', 'fastmcp-venv', 'bin', 'python');
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'fastmcp_client.py');
const CLIENT_NAME = 'mcp-keycloak-stack FastMCP test';

describe('FastMCP Python client with its OAuth helper', { concurrency: false }, () => {
  let card: StackCard;
  let browser: Browser;
  let work: string;

  before(async () => {
    card = await loadStack();
    work = await mkdtemp(join(tmpdir(), 'fastmcp-test-'));
  });
  after(async () => {
    await browser?.close();
    if (work) await rm(work, { recursive: true, force: true });
    if (card) {
      const admin = await keycloakAdmin(card);
      for (const client of await admin.clients.find({ max: 1000 })) {
        if (client.name === CLIENT_NAME && client.id) await admin.clients.del({ id: client.id });
      }
    }
  });

  it('discovery → DCR → PKCE → Keycloak login in Chromium → whoami', async () => {
    assert.ok(
      existsSync(FASTMCP_PYTHON),
      `no FastMCP venv at ${FASTMCP_PYTHON}: npm test creates it (mcp-server/test/clients/setup-fastmcp-venv.sh)`,
    );
    browser = await launchChromium();
    const opened = join(work, 'opened-url');
    const fakeBrowser = join(work, 'browser.sh');
    await writeFile(fakeBrowser, `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
    await chmod(fakeBrowser, 0o755);
    const callbackPort = await freePort();

    let stdout = '';
    let stderr = '';
    const child = spawn(FASTMCP_PYTHON, [SCRIPT, card.mcpUrl, String(callbackPort)], {
      env: { PATH: process.env.PATH ?? '', HOME: work, BROWSER: fakeBrowser },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      let url: URL | undefined;
      for (let attempt = 0; attempt < 300 && !url && child.exitCode === null; attempt += 1) {
        const text = await readFile(opened, 'utf8').catch(() => '');
        if (text) url = new URL(text);
        else await sleep(200);
      }
      assert.ok(url, `FastMCP never opened an authorization URL:\n${stderr}`);
      assert.equal(url.origin + url.pathname, `${card.issuer}/protocol/openid-connect/auth`);
      assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(url.searchParams.get('resource'), card.mcpUrl);

      await logInAt(browser, url, user(card, 'bob'), {
        done: (u) => u.port === String(callbackPort),
        shots: await screenshotDir('fastmcp'),
        name: '',
        client: 'fastmcp',
      });

      assert.equal(await exited, 0, `FastMCP client failed:\n${stderr}`);
      const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
        tools: string[];
        whoami: { username: string; clientId: string; scopes: string[] };
      };
      assert.ok(result.tools.includes('whoami'), `tools: ${result.tools.join(', ')}`);
      assert.equal(result.whoami.username, 'bob');
      assert.ok(result.whoami.scopes.includes('mcp:tools'));
      assert.equal(result.whoami.clientId, url.searchParams.get('client_id'));
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
  });
});
