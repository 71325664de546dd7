// A steady authenticated load on a running stack, for fault drills: `usage` tool calls at a target rate from
// several users' access tokens, a login through Keycloak's real form (authorization code + PKCE, the loopback
// redirect of a client registered by anonymous DCR, as an MCP host does) and a refresh_token grant every few
// seconds. Every operation is recorded with when it was sent and answered and how it ended, so a drill can
// say what failed and when (drillReport.ts). It knows only URLs and credentials — the native launcher or a
// Compose deployment behind a TLS proxy look the same to it (for a local CA, start Node with
// NODE_EXTRA_CA_CERTS: fetch reads it once, at process start).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeycloakFormError } from '@mcp-keycloak-stack/seed/keycloakLogin';
import { CookieJar } from '@mcp-keycloak-stack/mcp-server/test/e2e/support/cookieJar';
import {
  authorizationCodeUrl,
  createPkcePair,
  loginThroughBrowserForm,
} from '@mcp-keycloak-stack/mcp-server/test/e2e/support/keycloakLogin';
import { startLoopbackCallback } from '@mcp-keycloak-stack/mcp-server/test/e2e/support/loopbackCallback';
import { decodeJwtPayload } from '@mcp-keycloak-stack/mcp-server/test/e2e/support/stack';
import { postMcp, responseTo } from '../../../mcp-server/test/integration/support/mcpHttp.ts';

/** What the MCP server answers a tool call while Valkey is down and it fails closed (docs/operations.md). */
export const STORE_DOWN_ANSWER = 'The usage store is unavailable; the call was not run. Try again shortly.';

export type Operation = 'tool call' | 'login' | 'refresh';

export interface LoadRecord {
  op: Operation;
  /** The user whose token (tool call, refresh) or password (login) it used. */
  user: string;
  /** Date.now() when it was sent, and when its answer (or its failure) arrived. */
  sentAt: number;
  doneAt: number;
  ok: boolean;
  /**
   * Why it failed, short enough to group by: `HTTP 503`, `HTTP 400 invalid_grant`, a socket error code
   * (`ECONNREFUSED`, `ECONNRESET`, `UND_ERR_SOCKET`), `timeout`, `store down` (STORE_DOWN_ANSWER),
   * `tool error`, `JSON-RPC -32603`, `login page HTTP 502`, `bad answer`.
   */
  failure?: string;
  /** A failure's longer description (a server's words, an error message). */
  detail?: string;
  /** A successful tool call: the user's usage count the server answered, this call included. */
  count?: number;
}

export interface LoadUser {
  username: string;
  password: string;
}

export interface LoadOptions {
  /** The protected MCP endpoint (the tokens' audience), e.g. https://mcp.example.test/mcp. */
  mcpUrl: string;
  /** Keycloak's issuer for the realm; its endpoints come from the discovery document. */
  issuer: string;
  /**
   * The users whose tokens make the tool calls (round robin) and who log in and refresh in turn. Each user's
   * share of the rate must stay under the server's per-subject limit (MCP_RATE_LIMIT per window, 600/min by
   * default): 50 calls/s needs at least 6 users.
   */
  users: readonly LoadUser[];
  /** Default 50. */
  toolCallsPerSecond?: number;
  /** One login (the next user, a fresh browser: password form every time). Default 3000. */
  loginEveryMs?: number;
  /** One refresh_token grant (the next user). Default 3000. */
  refreshEveryMs?: number;
  /** A tool call or token request not answered by then counts as `timeout`. Default 15000. */
  requestTimeoutMs?: number;
  /** A whole login (form pages, redirect, code redemption). Default 30000. */
  loginTimeoutMs?: number;
  /** Asked at login. Default `openid mcp:tools`. */
  scope?: string;
  /** RFC 8707 `resource` sent at login. Default: mcpUrl. */
  resource?: string;
  /** Tool calls open at once; the schedule skips a call beyond that (counted in notSent). Default 400. */
  maxInFlight?: number;
  /** The DCR client's name, as Keycloak shows it. */
  clientName?: string;
}

export interface RegisteredClient {
  clientId: string;
  /** RFC 7592: read, update or delete the client with it. */
  registrationAccessToken?: string;
  registrationClientUri?: string;
}

export interface Load {
  /** The self-registered (DCR) client the logins go through. */
  readonly client: RegisteredClient;
  /** Every operation so far, in the order they finished (the initial logins included). */
  readonly records: readonly LoadRecord[];
  /** Tool calls the schedule skipped: too many in flight, or the process fell more than a second behind. */
  readonly notSent: number;
  /** Each user's token subject (`sub`), as Valkey keys the counts. */
  readonly subjects: ReadonlyMap<string, string>;
  /** Operations sent and not answered yet. */
  inFlight(op?: Operation): number;
  /** Resolves once every operation sent before `time` (default: now) has finished. */
  settled(time?: number): Promise<void>;
  /** Stops sending, waits for what is in flight, closes the loopback receiver; returns every record. */
  stop(): Promise<LoadRecord[]>;
}

interface Endpoints {
  authorization: string;
  token: string;
  registration: string;
}

interface UserState extends LoadUser {
  accessToken: string;
  refreshToken: string | undefined;
  subject: string;
}

/** An operation's failure with its category already decided. */
class LoadFailure extends Error {
  constructor(
    readonly category: string,
    readonly detail?: string,
  ) {
    super(detail ? `${category}: ${detail}` : category);
  }
}

/**
 * Registers the DCR client, logs every user in once (a failure here throws: the load cannot start), then runs
 * until stop(). Tool calls, logins and refreshes each have their own schedule and never wait for each other.
 */
export async function startLoad(options: LoadOptions): Promise<Load> {
  if (options.users.length === 0) throw new Error('the load needs at least one user');
  const rate = options.toolCallsPerSecond ?? 50;
  const loginEveryMs = options.loginEveryMs ?? 3000;
  const refreshEveryMs = options.refreshEveryMs ?? 3000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
  const loginTimeoutMs = options.loginTimeoutMs ?? 30_000;
  const maxInFlight = options.maxInFlight ?? 400;
  const scope = options.scope ?? 'openid mcp:tools';
  const resource = options.resource ?? options.mcpUrl;

  const endpoints = await discover(options.issuer, requestTimeoutMs);
  const callback = await startLoopbackCallback();
  const records: LoadRecord[] = [];
  const pending = new Set<{ op: Operation; sentAt: number; done: Promise<boolean> }>();
  const subjects = new Map<string, string>();
  const states: UserState[] = [];
  const stopper = new AbortController();
  let notSent = 0;
  let nextId = 1;

  /** Runs one operation and records how it ended; never throws. Pending until its record is written. */
  const record = (
    op: Operation,
    user: string,
    run: () => Promise<Partial<LoadRecord> | void>,
  ): Promise<boolean> => {
    const sentAt = Date.now();
    const done = (async () => {
      try {
        const extra = await run();
        records.push({ op, user, sentAt, doneAt: Date.now(), ok: true, ...extra });
        return true;
      } catch (error) {
        records.push({ op, user, sentAt, doneAt: Date.now(), ok: false, ...categorize(error) });
        return false;
      }
    })();
    const entry = { op, sentAt, done };
    pending.add(entry);
    void done.then(() => pending.delete(entry));
    return done;
  };

  const client = await registerPublicClient(endpoints.registration, callback.redirectUri, {
    scope,
    clientName: options.clientName ?? 'fault drill load',
    timeoutMs: requestTimeoutMs,
  }).catch(async (error: unknown) => {
    await callback.close();
    throw error;
  });

  const tokenRequest = async (form: Record<string, string>) => {
    const response = await fetch(endpoints.token, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
    const text = await response.text();
    const body = parseJson(text);
    if (!response.ok || typeof body?.access_token !== 'string') {
      const error = typeof body?.error === 'string' ? ` ${body.error}` : '';
      throw new LoadFailure(
        `HTTP ${response.status}${error}`,
        String(body?.error_description ?? text.slice(0, 200)),
      );
    }
    return {
      accessToken: body.access_token,
      refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : undefined,
    };
  };

  /** A fresh browser each time: Keycloak's password form, then its consent screen on a user's first login. */
  const login = async (user: LoadUser) => {
    const pkce = createPkcePair();
    const state = randomUUID();
    const authorizationUrl = authorizationCodeUrl(endpoints.authorization, {
      clientId: client.clientId,
      redirectUri: callback.redirectUri,
      scope,
      challenge: pkce.challenge,
      state,
      resource,
    });
    const answer = await loginThroughBrowserForm({
      authorizationUrl,
      username: user.username,
      password: user.password,
      callback,
      jar: new CookieJar(),
    });
    if (answer.state !== state) throw new LoadFailure('state mismatch', `callback state ${answer.state}`);
    return tokenRequest({
      grant_type: 'authorization_code',
      code: answer.code,
      redirect_uri: callback.redirectUri,
      client_id: client.clientId,
      code_verifier: pkce.verifier,
      resource,
    });
  };

  const adopt = (state: UserState, tokens: { accessToken: string; refreshToken: string | undefined }) => {
    state.accessToken = tokens.accessToken;
    if (tokens.refreshToken) state.refreshToken = tokens.refreshToken;
  };

  // A login bounded by loginTimeoutMs; the next one starts only once this one has settled, so two logins never
  // wait on the one loopback receiver at the same time.
  const timedLogin = async (user: LoadUser) => {
    const work = login(user);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new LoadFailure('timeout', `login not done in ${loginTimeoutMs} ms`)),
        loginTimeoutMs,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
      await work.catch(() => undefined);
    }
  };

  try {
    for (const user of options.users) {
      let tokens: { accessToken: string; refreshToken: string | undefined } | undefined;
      const ok = await record('login', user.username, async () => {
        tokens = await timedLogin(user);
      });
      if (!ok || !tokens) {
        const last = records.at(-1);
        throw new Error(`the first login of ${user.username} failed: ${last?.failure} ${last?.detail ?? ''}`);
      }
      const subject = String(decodeJwtPayload(tokens.accessToken).sub);
      subjects.set(user.username, subject);
      states.push({ ...user, ...tokens, subject });
    }
  } catch (error) {
    await callback.close();
    throw error;
  }

  const callTool = (state: UserState) =>
    record('tool call', state.username, async () => {
      const id = nextId++;
      const answer = await postMcp(
        options.mcpUrl,
        { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'usage', arguments: {} } },
        { token: state.accessToken, timeoutMs: requestTimeoutMs },
      );
      if (answer.status !== 200) {
        throw new LoadFailure(`HTTP ${answer.status}`, answer.text.slice(0, 200));
      }
      const response = responseTo(answer, id);
      if (response?.error) {
        throw new LoadFailure(`JSON-RPC ${response.error.code}`, response.error.message);
      }
      const result = response?.result as
        | {
            isError?: boolean;
            content?: { type: string; text?: string }[];
            structuredContent?: { subject?: unknown; count?: unknown };
          }
        | undefined;
      if (!result) throw new LoadFailure('bad answer', JSON.stringify(answer.messages).slice(0, 200));
      if (result.isError) {
        const text = result.content?.find((c) => c.type === 'text')?.text ?? '';
        throw new LoadFailure(text === STORE_DOWN_ANSWER ? 'store down' : 'tool error', text);
      }
      const { subject, count } = result.structuredContent ?? {};
      if (subject !== state.subject) {
        throw new LoadFailure('wrong subject', `${String(subject)} answered for ${state.subject}`);
      }
      if (typeof count !== 'number') throw new LoadFailure('bad answer', 'no count');
      return { count };
    });

  const countInFlight = (op?: Operation) =>
    [...pending].filter((p) => op === undefined || p.op === op).length;

  // Tool calls: as many as the rate says are due, checked every 10 ms. After a stall of the event loop the
  // schedule catches up at most one second's worth; the rest are counted as not sent.
  const startedAt = performance.now();
  let scheduled = 0;
  let turn = 0;
  const ticker = setInterval(() => {
    const due = Math.floor(((performance.now() - startedAt) * rate) / 1000);
    if (due - scheduled > rate) {
      notSent += due - scheduled - rate;
      scheduled = due - rate;
    }
    for (; scheduled < due; scheduled += 1) {
      if (countInFlight('tool call') >= maxInFlight) {
        notSent += 1;
        continue;
      }
      const state = states[turn++ % states.length] as UserState;
      void callTool(state);
    }
  }, 10);

  /** Runs `step` every `everyMs` (the next one right away when a step took longer) until stop(). */
  const every = async (everyMs: number, offsetMs: number, step: (turn: number) => Promise<unknown>) => {
    let next = Date.now() + offsetMs;
    for (let n = 0; ; n += 1) {
      const wait = next - Date.now();
      if (wait > 0) {
        try {
          await sleep(wait, undefined, { signal: stopper.signal });
        } catch {
          return;
        }
      }
      if (stopper.signal.aborted) return;
      await step(n);
      next = Math.max(next + everyMs, Date.now());
    }
  };

  const loops = [
    every(loginEveryMs, loginEveryMs, async (n) => {
      const state = states[n % states.length] as UserState;
      await record('login', state.username, async () => adopt(state, await timedLogin(state)));
    }),
    every(refreshEveryMs, refreshEveryMs / 2, async (n) => {
      const state = states[n % states.length] as UserState;
      await record('refresh', state.username, async () => {
        if (!state.refreshToken) throw new LoadFailure('no refresh token');
        adopt(
          state,
          await tokenRequest({
            grant_type: 'refresh_token',
            refresh_token: state.refreshToken,
            client_id: client.clientId,
          }),
        );
      });
    }),
  ];

  const settled = async (time = Date.now()) => {
    for (;;) {
      const before = [...pending].filter((p) => p.sentAt < time);
      if (before.length === 0) return;
      await Promise.all(before.map((p) => p.done));
    }
  };

  return {
    client,
    records,
    get notSent() {
      return notSent;
    },
    subjects,
    inFlight: countInFlight,
    settled,
    async stop() {
      clearInterval(ticker);
      stopper.abort();
      await Promise.all(loops);
      await settled(Number.POSITIVE_INFINITY);
      await callback.close();
      return records;
    },
  };
}

/**
 * Anonymous Dynamic Client Registration (RFC 7591) of a public client with one loopback redirect, as an MCP host
 * registers itself. Throws with Keycloak's answer when refused.
 */
export async function registerPublicClient(
  registrationEndpoint: string,
  redirectUri: string,
  options: { scope?: string; clientName?: string; timeoutMs?: number } = {},
): Promise<RegisteredClient> {
  const response = await fetch(registrationEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: options.clientName ?? 'fault drill host',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: options.scope ?? 'openid mcp:tools',
    }),
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
  });
  const text = await response.text();
  const body = parseJson(text);
  if (response.status !== 201 || typeof body?.client_id !== 'string') {
    throw new Error(
      `registration at ${registrationEndpoint} answered ${response.status}: ${text.slice(0, 300)}`,
    );
  }
  return {
    clientId: body.client_id,
    ...(typeof body.registration_access_token === 'string' && {
      registrationAccessToken: body.registration_access_token,
    }),
    ...(typeof body.registration_client_uri === 'string' && {
      registrationClientUri: body.registration_client_uri,
    }),
  };
}

async function discover(issuer: string, timeoutMs: number): Promise<Endpoints> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const metadata = (await response.json()) as Record<string, unknown>;
  const endpoint = (name: string) => {
    const value = metadata[name];
    if (typeof value !== 'string') throw new Error(`${url} names no ${name}`);
    return value;
  };
  return {
    authorization: endpoint('authorization_endpoint'),
    token: endpoint('token_endpoint'),
    registration: endpoint('registration_endpoint'),
  };
}

/** An error as a record's `failure` and `detail`. */
function categorize(error: unknown): Pick<LoadRecord, 'failure' | 'detail'> {
  if (error instanceof LoadFailure) {
    return { failure: error.category, ...(error.detail !== undefined && { detail: error.detail }) };
  }
  const e = error as { name?: string; message?: string; cause?: { code?: unknown; message?: string } };
  const message = String(e.message ?? error);
  if (e.name === 'TimeoutError') return { failure: 'timeout', detail: message };
  if (typeof e.cause?.code === 'string') {
    return { failure: e.cause.code, detail: e.cause.message ?? message };
  }
  if (error instanceof KeycloakFormError) {
    const status = /HTTP (\d{3})/.exec(message)?.[1];
    return { failure: status ? `login page HTTP ${status}` : 'login page', detail: message };
  }
  return { failure: 'error', detail: message.slice(0, 300) };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
