// A second MCP server process for tests that must restart one or change one setting; same code as `npm start`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { REPO_ROOT } from './stack.ts';

export interface McpServerProcess {
  baseUrl: string;
  /** The server's process id (its stdio upstreams are its children). */
  pid: number;
  /** Everything it wrote so far, stdout and stderr (JSON log lines, audit lines). */
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Serves the stack's canonical resource URL (tokens are minted for it) from another port. */
export async function startMcpServer(
  card: StackCard,
  port: number,
  extraEnv: Record<string, string> = {},
): Promise<McpServerProcess> {
  let output = '';
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'mcp-server/src/main.ts')],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        MCP_HOST: '127.0.0.1',
        MCP_PORT: String(port),
        MCP_RESOURCE_URL: card.mcpUrl,
        OIDC_ISSUER: card.issuer,
        OIDC_JWKS_URL: card.jwksUrl ?? `${card.issuer}/protocol/openid-connect/certs`,
        VALKEY_URL: card.valkeyUrl,
        LOG_LEVEL: 'warn',
        // Beside the stack's own server: /metrics on any free port, not the default one it holds.
        MCP_METRICS_PORT: '0',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`MCP server exited early:\n${output}`);
    const ok = await fetch(`${baseUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`MCP server on ${port} not healthy within 20s:\n${output}`);
    }
    await sleep(200);
  }
  return {
    baseUrl,
    pid: child.pid as number,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
