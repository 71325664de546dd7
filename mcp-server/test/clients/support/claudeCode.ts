// Claude Code's native build (setup-claude-code.sh) driven without a terminal, for claudeCode.test.ts and
// claudeCodeGateway.test.ts: its CLI run to its end, its stream-json control protocol (the one its Agent SDK
// speaks), and the MCP OAuth login through that protocol with headless Chromium on Keycloak's form. Each
// "home" is a directory of its own under the test's work directory (HOME, CLAUDE_CONFIG_DIR, a project).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { user } from '../../e2e/support/stack.ts';
import { noteRegisteredClient } from './authorizationRequest.ts';
import { launchChromium, logInAt } from './browser.ts';
import { cacheDir } from './node22.ts';

/** The release setup-claude-code.sh fetches (keep the two in step). */
export const CLAUDE_CODE_VERSION = '2.1.332';
export const SETUP_SCRIPT = 'mcp-server/test/clients/setup-claude-code.sh';

export function claudeBin(): string {
  return join(
    process.env.CLAUDE_CODE_DIR ?? join(cacheDir(), `claude-code-${CLAUDE_CODE_VERSION}`),
    'package',
    'claude',
  );
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ServerStatus {
  name: string;
  status: string;
  tools?: { name: string }[];
}

export interface StoredLogin {
  clientId?: string;
  accessToken?: string;
}

export interface ControlSession {
  request: (request: Record<string, unknown>) => Promise<Record<string, unknown>>;
  close: () => Promise<void>;
  output: () => string;
}

/** The response of a control request that must succeed. */
export function success(response: Record<string, unknown>, output: () => string): Record<string, unknown> {
  assert.equal(response.subtype, 'success', `${JSON.stringify(response)}\n${output()}`);
  return (response.response ?? {}) as Record<string, unknown>;
}

export function accessTokenClaims(stored: StoredLogin): {
  azp?: string;
  sub?: string;
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
export async function untilPortFree(port: number): Promise<void> {
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

/**
 * Claude Code homes under `work`. `extraEnv` is added to every run's environment (e.g. ANTHROPIC_BASE_URL for a
 * stand-in model). Chromium is launched on the first login and closed by `close()`.
 */
export class ClaudeCodeHomes {
  private browser: Browser | undefined;

  constructor(
    private readonly options: {
      card: StackCard;
      work: string;
      shots: string;
      /** Clients DCR made during logins are noted here (for deleteRegisteredClients). */
      registeredClientIds: string[];
      extraEnv?: Record<string, string>;
    },
  ) {}

  /** HOME and CLAUDE_CONFIG_DIR in work/<home>; telemetry, updates and other outside traffic off. */
  env(home: string): NodeJS.ProcessEnv {
    const { work } = this.options;
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
      ...this.options.extraEnv,
    };
  }

  /** `claude <args>` run to its end in the project directory work/<home>/project. */
  claude(home: string, args: string[], options: { timeoutMs?: number } = {}): Promise<Run> {
    const run: Run = { code: null, stdout: '', stderr: '' };
    const child = spawn(claudeBin(), args, {
      cwd: join(this.options.work, home, 'project'),
      env: this.env(home),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (run.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (run.stderr += d.toString()));
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    return new Promise((resolve) =>
      child.once('exit', (code) => {
        clearTimeout(timer);
        run.code = code;
        resolve(run);
      }),
    );
  }

  /** `claude -p` speaking stream-json: control requests in, their responses out (no user message is sent). */
  controlSession(home: string): ControlSession {
    const child = spawn(
      claudeBin(),
      ['-p', '--input-format', 'stream-json', '--output-format', 'stream-json', '--verbose'],
      { cwd: join(this.options.work, home, 'project'), env: this.env(home), stdio: ['pipe', 'pipe', 'pipe'] },
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

  /**
   * Adds the server `serverName` with `addArgs` (a `claude mcp add …` line, without `claude`) in HOME
   * work/<home>, checks that `claude mcp list` reports it as needing authentication, runs `mcp_authenticate`,
   * logs `who` in through Chromium on the returned URL and waits (bounded polling) until `mcp_status` shows the
   * server connected.
   */
  async addAndLogin(
    home: string,
    who: string,
    addArgs: string[],
    serverName: string,
  ): Promise<{ url: URL; server: ServerStatus; stored: StoredLogin }> {
    const { work, shots } = this.options;
    const { card } = this.options;
    await mkdir(join(work, home, 'project'), { recursive: true });
    const added = await this.claude(home, addArgs);
    assert.equal(added.code, 0, `${added.stderr}\n${added.stdout}`);
    const before = await this.claude(home, ['mcp', 'list']);
    assert.match(before.stdout, new RegExp(`${serverName}: .*Needs authentication`), before.stdout);

    const session = this.controlSession(home);
    try {
      success(await session.request({ subtype: 'initialize' }), session.output);
      const started = success(
        await session.request({ subtype: 'mcp_authenticate', serverName }),
        session.output,
      );
      assert.equal(started.requiresUserAction, true, session.output());
      const url = new URL(String(started.authUrl));
      noteRegisteredClient(card, url, this.options.registeredClientIds);

      this.browser ??= await launchChromium();
      const redirect = url.searchParams.get('redirect_uri') ?? '';
      await logInAt(this.browser, url, user(card, who), {
        done: (u) => u.href.startsWith(redirect),
        shots,
        name: home,
        client: 'claude-code',
      });

      let server: ServerStatus | undefined;
      for (let attempt = 0; attempt < 100; attempt += 1) {
        const status = success(await session.request({ subtype: 'mcp_status' }), session.output);
        server = (status.mcpServers as ServerStatus[] | undefined)?.find((s) => s.name === serverName);
        if (server?.status === 'connected') break;
        await sleep(200);
      }
      assert.equal(server?.status, 'connected', session.output());
      return { url, server, stored: await this.storedLogin(home, serverName) };
    } finally {
      await session.close();
    }
  }

  /** What Claude Code stored for the server (CLAUDE_CONFIG_DIR/.credentials.json where there is no keychain). */
  async storedLogin(home: string, serverName: string): Promise<StoredLogin> {
    const file = join(this.options.work, home, '.claude', '.credentials.json');
    const stored = JSON.parse(await readFile(file, 'utf8')) as { mcpOAuth?: Record<string, StoredLogin> };
    const [entry] = Object.entries(stored.mcpOAuth ?? {}).filter(([key]) => key.startsWith(`${serverName}|`));
    assert.ok(entry, `no stored login for ${serverName} in ${file}`);
    return entry[1];
  }

  async close(): Promise<void> {
    await this.browser?.close();
    this.browser = undefined;
  }
}
