// Small pieces the attack suite shares: endpoints from the stack card, fetches bounded by a timeout,
// anonymous registrations (both Keycloak endpoints), a cleanup list, throwaway users and MCP calls. The
// stack itself is found, logged into and administered through the existing e2e/integration/client helpers.
import { createServer } from 'node:http';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { keycloakAdmin } from '../../clients/support/consoleClient.ts';
import { CookieJar } from '../../e2e/support/cookieJar.ts';
import {
  authorizationCodeUrl,
  createPkcePair,
  loginThroughBrowserForm,
} from '../../e2e/support/keycloakLogin.ts';
import type { LoopbackCallback } from '../../e2e/support/loopbackCallback.ts';
import { postForm } from '../../e2e/support/tokens.ts';

/** Every single network wait of the suite is bounded by this (tests have their own, larger, timeouts). */
export const NETWORK_TIMEOUT_MS = 15_000;
/** Per-test bound for `it(…, { timeout })`. */
export const TEST_TIMEOUT_MS = 120_000;

export { keycloakAdmin };

export function endpoints(card: StackCard) {
  const oidc = `${card.issuer}/protocol/openid-connect`;
  return {
    auth: `${oidc}/auth`,
    token: `${oidc}/token`,
    certs: `${oidc}/certs`,
    registrationOidc: `${card.issuer}/clients-registrations/openid-connect`,
    registrationDefault: `${card.issuer}/clients-registrations/default`,
  };
}

export function timedFetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS), ...init });
}

/** Rejects when `promise` has not settled within `ms` (for waits that are not fetches). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Registration {
  status: number;
  body: Record<string, unknown>;
  /** The public client id (OIDC `client_id`, Keycloak format `clientId`), when the registration succeeded. */
  clientId: string | undefined;
  registrationAccessToken: string | undefined;
}

/** An anonymous registration, as anybody on the network can send one. */
export async function registerAnonymously(
  card: StackCard,
  format: 'openid-connect' | 'default',
  metadata: Record<string, unknown>,
  cleanup?: Cleanup,
): Promise<Registration> {
  const url = format === 'default' ? endpoints(card).registrationDefault : endpoints(card).registrationOidc;
  const response = await timedFetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(metadata),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text.slice(0, 300) };
  }
  const clientId =
    response.status < 300 ? String(body.client_id ?? body.clientId ?? '') || undefined : undefined;
  if (clientId) cleanup?.client(clientId);
  const rat = body.registration_access_token ?? body.registrationAccessToken;
  return {
    status: response.status,
    body,
    clientId,
    registrationAccessToken: typeof rat === 'string' ? rat : undefined,
  };
}

/** "HTTP 201 {…}" for assertion messages. */
/** The smallest registration an MCP host sends (public client, code + PKCE); `extra` adds or replaces fields. */
export function hostRegistration(
  clientName: string,
  redirectUris: string[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    client_name: clientName,
    redirect_uris: redirectUris,
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    ...extra,
  };
}

export function described(registration: Registration): string {
  return `HTTP ${registration.status} ${JSON.stringify(registration.body).slice(0, 400)}`;
}

/** What a test created in the realm; `run()` removes all of it through the admin REST API. */
export class Cleanup {
  private readonly clientIds = new Set<string>();
  private readonly userIds = new Set<string>();
  private readonly undo: (() => Promise<unknown>)[] = [];

  constructor(private readonly card: () => StackCard | undefined) {}

  client(clientId: string): void {
    this.clientIds.add(clientId);
  }

  user(id: string): void {
    this.userIds.add(id);
  }

  /** A realm change to put back (run last-in first-out, before clients and users go). */
  restore(step: () => Promise<unknown>): void {
    this.undo.push(step);
  }

  async run(): Promise<void> {
    const card = this.card();
    if (!card) return;
    const problems: unknown[] = [];
    for (const step of this.undo.reverse()) await step().catch((e: unknown) => problems.push(e));
    this.undo.length = 0;
    await deleteClients(card, [...this.clientIds]).catch((e: unknown) => problems.push(e));
    this.clientIds.clear();
    // Never throws: a cleanup that cannot log in must not keep the suite's servers (and the run) open.
    const admin = await keycloakAdmin(card).catch((e: unknown) => void problems.push(e));
    if (admin) {
      for (const id of this.userIds) await admin.users.del({ id }).catch((e: unknown) => problems.push(e));
    }
    this.userIds.clear();
    if (problems.length > 0) console.error('cleanup problems:', problems);
  }
}

/**
 * Deletes clients by their public clientId, ten at a time. The master realm's admin tokens live a minute, so
 * a fresh admin session is made for every batch of 50.
 */
export async function deleteClients(card: StackCard, clientIds: readonly string[]): Promise<void> {
  for (let start = 0; start < clientIds.length; start += 50) {
    const admin: KcAdminClient = await keycloakAdmin(card);
    const queue = clientIds.slice(start, start + 50);
    const worker = async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const found = await admin.clients.find({ clientId: next });
        for (const c of found) if (c.id && c.clientId === next) await admin.clients.del({ id: c.id });
      }
    };
    await Promise.all(Array.from({ length: 10 }, worker));
  }
}

/** A user nobody else uses (never alice or bob), removed by `cleanup`. */
export async function createThrowawayUser(
  card: StackCard,
  cleanup: Cleanup,
  extra: { firstName?: string; lastName?: string; email?: string } = {},
): Promise<{ id: string; username: string; password: string }> {
  const admin = await keycloakAdmin(card);
  const username = `attack-${crypto.randomUUID().slice(0, 8)}`;
  const password = `Pw-${crypto.randomUUID()}`;
  const { id } = await admin.users.create({
    username,
    enabled: true,
    emailVerified: true,
    email: extra.email ?? `${username}@example.test`,
    firstName: extra.firstName ?? 'Throwaway',
    lastName: extra.lastName ?? 'Attacker',
    credentials: [{ type: 'password', value: password, temporary: false }],
    requiredActions: [],
  });
  cleanup.user(id);
  return { id, username, password };
}

/** Code + PKCE through Keycloak's login form (HTTP, no browser); returns the token response. */
export async function loginWithCode(
  card: StackCard,
  opts: {
    clientId: string;
    callback: LoopbackCallback;
    credentials: { username: string; password: string };
    scope: string;
    jar?: CookieJar;
    clientSecret?: string;
  },
): Promise<Record<string, unknown>> {
  const pkce = createPkcePair();
  const authorizationUrl = authorizationCodeUrl(endpoints(card).auth, {
    clientId: opts.clientId,
    redirectUri: opts.callback.redirectUri,
    scope: opts.scope,
    challenge: pkce.challenge,
    state: crypto.randomUUID(),
  });
  const { code } = await loginThroughBrowserForm({
    authorizationUrl,
    ...opts.credentials,
    callback: opts.callback,
    jar: opts.jar ?? new CookieJar(),
  });
  const form: Record<string, string> = {
    grant_type: 'authorization_code',
    code,
    redirect_uri: opts.callback.redirectUri,
    client_id: opts.clientId,
    code_verifier: pkce.verifier,
  };
  if (opts.clientSecret) form.client_secret = opts.clientSecret;
  return postForm(endpoints(card).token, form);
}

/** A raw token-endpoint call that does not throw on an error answer. */
export async function tokenRequest(
  card: StackCard,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await timedFetch(endpoints(card).token, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: response.status, body: { raw: text.slice(0, 300) } };
  }
}

export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
};

export interface McpAnswer {
  status: number;
  challenge: string | null;
  headers: Headers;
  body: {
    result?: { structuredContent?: Record<string, unknown>; isError?: boolean };
    error?: { code: number; message: string };
    id?: unknown;
  } & Record<string, unknown>;
}

/** One JSON-RPC message to /mcp with a bearer token (or none). */
export async function mcpPost(
  url: string,
  token: string | undefined,
  message: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<McpAnswer> {
  const response = await timedFetch(url, {
    method: 'POST',
    headers: {
      ...MCP_HEADERS,
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: JSON.stringify(message),
  });
  const text = await response.text();
  let body: McpAnswer['body'] = {};
  try {
    body = text ? (JSON.parse(text) as McpAnswer['body']) : {};
  } catch {
    body = { raw: text.slice(0, 300) };
  }
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    headers: response.headers,
    body,
  };
}

export function callTool(
  card: StackCard,
  token: string | undefined,
  name: string,
  args: Record<string, unknown> = {},
  id: number | string = 1,
): Promise<McpAnswer> {
  return mcpPost(card.mcpUrl, token, {
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name, arguments: args },
  });
}

/**
 * A loopback server that records every request it receives and answers `answer` (404 when none): the places
 * Keycloak or the MCP server must never be made to call (a chosen jwks_uri, a token's jku, …).
 */
export async function startTrap(
  answer?: unknown,
): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    if (answer === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('trap has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
