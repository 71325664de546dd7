// Runs INSIDE a network namespace that has only loopback (cimdAirGapped.integration.test.ts starts it with
// `unshare --net`): a private native stack (STACK_DIR from the environment) is started there, and hosts whose
// client ID metadata documents the seed pre-registered log in with the document URL as client_id, although
// Keycloak can reach neither vscode.dev nor claude.ai. Prints one JSON line (prefix AIRGAP_RESULT) for the test;
// stops the stack whatever happens.
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readStackCard, type StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { CLAUDE_CODE_DOCUMENT_URL, VSCODE_DOCUMENT_URL } from '@mcp-keycloak-stack/seed/clients/presets';
import { CookieJar } from '../../e2e/support/cookieJar.ts';
import {
  authorizationCodeUrl,
  createPkcePair,
  loginThroughBrowserForm,
} from '../../e2e/support/keycloakLogin.ts';
import type { LoopbackCallback } from '../../e2e/support/loopbackCallback.ts';
import { connectWithToken, toolJson } from '../../e2e/support/mcpClient.ts';
import { REPO_ROOT, user } from '../../e2e/support/stack.ts';
import { postForm } from '../../e2e/support/tokens.ts';
import { errorPageMessage } from './cimdDocuments.ts';

const run = promisify(execFile);

export interface AirGappedResult {
  /** What trying to reach the hosts' document servers gave, from inside the namespace. */
  outside: { dns: string; tcp: string };
  logins: { document: string; redirectUri: string; username: string; azp: string; whoamiClientId: string }[];
  /** An authorization request naming a document URL nobody pre-registered: Keycloak tries and fails. */
  unpinned: { clientId: string; status: number; message: string | undefined };
  startSeconds: number;
}

/** A host's loopback listener at an exact URI (VS Code's is http://127.0.0.1:33418/). */
async function listenAt(redirectUri: string): Promise<LoopbackCallback> {
  const target = new URL(redirectUri);
  let waiting: ((query: URLSearchParams) => void) | undefined;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', redirectUri);
    if (url.pathname !== target.pathname) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.');
    waiting?.(url.searchParams);
  });
  await new Promise<void>((resolve) => server.listen(Number(target.port), target.hostname, resolve));
  return {
    redirectUri,
    next: () => new Promise((resolve) => (waiting = resolve)),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function describeError(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(error);
}

/** DNS and a plain TCP connection to a public address: both must fail where there is no route out. */
async function outsideReach(): Promise<AirGappedResult['outside']> {
  const dns = await fetch(VSCODE_DOCUMENT_URL, { signal: AbortSignal.timeout(10_000) }).then(
    (r) => `HTTP ${r.status}`,
    describeError,
  );
  const tcp = await new Promise<string>((resolve) => {
    const socket = connect({ host: '1.1.1.1', port: 443, timeout: 5000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (error) => resolve(describeError(error)));
  });
  return { dns, tcp };
}

async function login(card: StackCard, document: string, redirectUri: string, username: 'alice' | 'bob') {
  const callback = await listenAt(redirectUri);
  try {
    const pkce = createPkcePair();
    const authorizationUrl = authorizationCodeUrl(`${card.issuer}/protocol/openid-connect/auth`, {
      clientId: document,
      redirectUri,
      scope: 'openid mcp:tools',
      challenge: pkce.challenge,
      state: crypto.randomUUID(),
      resource: card.mcpUrl,
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
      redirect_uri: redirectUri,
      client_id: document,
      code_verifier: pkce.verifier,
      resource: card.mcpUrl,
    });
    const token = tokens.access_token as string;
    const azp = String(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).azp);
    const mcp = await connectWithToken(card.mcpUrl, token);
    const whoami = toolJson(await mcp.callTool({ name: 'whoami', arguments: {} }));
    await mcp.close();
    return { document, redirectUri, username, azp, whoamiClientId: String(whoami.clientId) };
  } finally {
    await callback.close();
  }
}

async function launcher(script: string, args: string[]): Promise<void> {
  await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'compose/native', script), ...args], {
    cwd: REPO_ROOT,
    env: process.env,
    timeout: 900_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}

async function main(): Promise<AirGappedResult> {
  const outside = await outsideReach();
  const began = Date.now();
  await launcher('start.ts', ['--detach']);
  const startSeconds = Math.round((Date.now() - began) / 1000);
  const card = await readStackCard(join(process.env.STACK_DIR ?? '', 'stack.json'));
  if (!card) throw new Error('the private stack wrote no card');
  const logins = [
    // VS Code's loopback server on its fixed port, as its document lists it.
    await login(card, VSCODE_DOCUMENT_URL, 'http://127.0.0.1:33418/', 'alice'),
    // Claude Code's listener on a port it picks; the document's port-less URI covers any.
    await login(card, CLAUDE_CODE_DOCUMENT_URL, 'http://localhost:47613/callback', 'bob'),
  ];
  const unpinnedId = 'https://vscode.dev/oauth/not-pre-registered.json';
  const unpinnedUrl = authorizationCodeUrl(`${card.issuer}/protocol/openid-connect/auth`, {
    clientId: unpinnedId,
    redirectUri: 'http://127.0.0.1:33418/',
    scope: 'openid mcp:tools',
    challenge: createPkcePair().challenge,
  });
  const answer = await fetch(unpinnedUrl, { redirect: 'manual' });
  const unpinned = {
    clientId: unpinnedId,
    status: answer.status,
    message: errorPageMessage(await answer.text()),
  };
  return { outside, logins, unpinned, startSeconds };
}

try {
  const result = await main();
  console.log(`AIRGAP_RESULT ${JSON.stringify(result)}`);
} catch (error) {
  console.log(`AIRGAP_ERROR ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  await launcher('stop.ts', []).catch((error: unknown) => console.log(`stop failed: ${String(error)}`));
}
