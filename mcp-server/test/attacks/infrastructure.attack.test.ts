// Attack replay: the infrastructure around the two servers — Valkey reachable without a password and with
// CONFIG, Keycloak's cluster ports on a non-loopback address, /metrics on the public port, slow request bodies
// holding connections, registration access tokens that never expire, and lockout as a denial of service.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { CookieJar } from '../e2e/support/cookieJar.ts';
import { startLoopbackCallback, type LoopbackCallback } from '../e2e/support/loopbackCallback.ts';
import { loadStack, stackCardPath } from '../e2e/support/stack.ts';
import { clientCredentialsToken } from '../e2e/support/tokens.ts';
import { createAdminCapableClient } from '../integration/support/realmAdmin.ts';
import {
  Cleanup,
  createThrowawayUser,
  described,
  endpoints,
  hostRegistration,
  keycloakAdmin,
  loginWithCode,
  NETWORK_TIMEOUT_MS,
  registerAnonymously,
  TEST_TIMEOUT_MS,
  timedFetch,
  within,
} from './support/attackKit.ts';

const execFileAsync = promisify(execFile);

/** Sends raw RESP commands on one connection and returns the first line of each answer. */
async function valkeyFirstLines(url: URL, commands: string[][]): Promise<string[]> {
  const socket = connect({ host: url.hostname, port: Number(url.port || 6379) });
  socket.setTimeout(NETWORK_TIMEOUT_MS, () => socket.destroy(new Error('valkey: no answer')));
  try {
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      }),
      NETWORK_TIMEOUT_MS,
      'valkey connect',
    );
    const lines: string[] = [];
    let buffer = '';
    for (const command of commands) {
      socket.write(
        `*${command.length}\r\n${command.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`,
      );
      const line = await within(
        new Promise<string>((resolve, reject) => {
          const onData = (chunk: Buffer) => {
            buffer += chunk.toString('utf8');
            const end = buffer.indexOf('\r\n');
            if (end >= 0) {
              socket.off('data', onData);
              const first = buffer.slice(0, end);
              buffer = ''; // the rest of a multi-line answer is not needed
              resolve(first);
            }
          };
          socket.on('data', onData);
          socket.once('error', reject);
          socket.once('close', () => reject(new Error('valkey closed the connection')));
        }),
        NETWORK_TIMEOUT_MS,
        `valkey ${command[0]}`,
      );
      lines.push(line);
    }
    return lines;
  } finally {
    socket.destroy();
  }
}

/** The Valkey password where the stack keeps one: in the card's URL, else in secrets.json. */
async function valkeyPassword(card: StackCard): Promise<{ username?: string; password: string } | undefined> {
  const url = new URL(card.valkeyUrl);
  if (url.password) {
    return {
      password: decodeURIComponent(url.password),
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    };
  }
  try {
    const secrets = JSON.parse(
      await readFile(join(dirname(stackCardPath()), 'secrets.json'), 'utf8'),
    ) as Record<string, unknown>;
    for (const [key, value] of Object.entries(secrets)) {
      if (/valkey|redis/i.test(key) && /pass/i.test(key) && typeof value === 'string')
        return { password: value };
    }
  } catch {
    // no secrets file readable: treated as no password known
  }
  return undefined;
}

function isLoopback(address: string): boolean {
  const host = address.replace(/^\[|\]$/g, '');
  return /^127\./.test(host) || host === '::1' || /^::ffff:127\./i.test(host);
}

describe('attack: infrastructure', { concurrency: false, timeout: 900_000 }, () => {
  let card: StackCard;
  const cleanup = new Cleanup(() => card);

  before(async () => {
    card = await loadStack();
  });
  after(async () => {
    await cleanup.run();
  });

  it('Valkey refuses commands without the password (NOAUTH)', { timeout: TEST_TIMEOUT_MS }, async () => {
    const [pong] = await valkeyFirstLines(new URL(card.valkeyUrl), [['PING']]);
    assert.match(pong ?? '', /^-NOAUTH/, `Valkey answered an unauthenticated PING with ${pong}`);
  });

  it(
    'Valkey CONFIG GET * fails even authenticated (command disabled)',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const credentials = await valkeyPassword(card);
      const commands: string[][] = [];
      if (credentials) {
        commands.push(
          credentials.username
            ? ['AUTH', credentials.username, credentials.password]
            : ['AUTH', credentials.password],
        );
      }
      commands.push(['CONFIG', 'GET', '*']);
      const lines = await valkeyFirstLines(new URL(card.valkeyUrl), commands);
      if (credentials) assert.equal(lines[0], '+OK', `AUTH with the stack's password failed: ${lines[0]}`);
      const answer = lines.at(-1) ?? '';
      assert.match(answer, /^-/, `CONFIG GET * answered ${answer} (an array: CONFIG is enabled)`);
      if (credentials) assert.doesNotMatch(answer, /NOAUTH/);
    },
  );

  it(
    'no process listens on port 7800 or 57800 on a non-loopback address',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const { stdout } = await execFileAsync('ss', ['-ltnH'], { timeout: NETWORK_TIMEOUT_MS });
      const exposed = stdout
        .split('\n')
        .map((line) => line.trim().split(/\s+/)[3])
        .filter((local): local is string => Boolean(local))
        .filter((local) => /:(7800|57800)$/.test(local))
        .filter((local) => !isLoopback(local.replace(/:(7800|57800)$/, '')));
      assert.deepEqual(exposed, [], `listening beyond loopback: ${exposed.join(', ')}`);
    },
  );

  it('/metrics is not served on the MCP port (404)', { timeout: TEST_TIMEOUT_MS }, async () => {
    const response = await timedFetch(new URL('/metrics', card.mcpUrl));
    await response.body?.cancel();
    assert.equal(response.status, 404);
  });

  it(
    'a request body sent slowly and never finished is cut off by the server (closed or 408 before a 40 s bound)',
    { timeout: 60_000 },
    async () => {
      const m2m = card.clients.m2m;
      assert.ok(m2m, 'the stack card names no M2M client');
      // Authenticated, so that the server does read the body (the worst case: an unauthenticated one is cheaper).
      const token = (await clientCredentialsToken(endpoints(card).token, m2m, 'mcp:tools')).access_token;
      const target = new URL(card.mcpUrl);
      const socket = connect({
        host: target.hostname === 'localhost' ? '127.0.0.1' : target.hostname,
        port: Number(target.port || 80),
      });
      let received = '';
      const ended = new Promise<'closed'>((resolve) => {
        socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
        socket.once('close', () => resolve('closed'));
        socket.once('end', () => resolve('closed'));
        socket.once('error', () => resolve('closed'));
      });
      let dribbling = true;
      const bound = new AbortController();
      try {
        socket.write(
          [
            `POST ${target.pathname} HTTP/1.1`,
            `Host: ${target.host}`,
            `Authorization: Bearer ${token}`,
            'Content-Type: application/json',
            'Accept: application/json, text/event-stream',
            'MCP-Protocol-Version: 2025-11-25',
            'Content-Length: 100000',
            '',
            '{',
          ].join('\r\n'),
        );
        const dribble = (async () => {
          while (dribbling && !socket.destroyed) {
            await sleep(2_000);
            if (dribbling && !socket.destroyed) socket.write(' ');
          }
        })();
        const outcome = await Promise.race([
          ended,
          (async () => {
            for (;;) {
              if (/^HTTP\/1\.1 408/.test(received)) return 'timed out (408)' as const;
              if (!dribbling) return 'stopped' as const;
              await sleep(250);
            }
          })(),
          sleep(40_000, undefined, { signal: bound.signal }).then(() => 'still open after 40 s' as const),
        ]);
        dribbling = false;
        await dribble;
        assert.notEqual(
          outcome,
          'still open after 40 s',
          'the server held a never-finished body open for 40 s',
        );
        if (received)
          assert.match(received, /^HTTP\/1\.1 (408|413|400)/, `answer: ${received.slice(0, 200)}`);
      } finally {
        dribbling = false;
        bound.abort();
        socket.destroy();
      }
    },
  );

  describe('registration access tokens expire', () => {
    let restoreConfig: (() => Promise<void>) | undefined;
    after(async () => {
      await restoreConfig?.();
    });

    it(
      'a RAT whose iat is older than the max age of the `mcp-registration` policy is refused',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const admin = await keycloakAdmin(card);
        const components = await admin.components.find({
          type: 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy',
        });
        const component = components.find(
          (c) => c.providerId === 'mcp-registration' && c.subType === 'anonymous',
        );
        assert.ok(
          component?.id,
          'the realm has no anonymous client-registration policy of type `mcp-registration`',
        );
        const key = 'registration-access-token-max-age';
        assert.ok(key in (component.config ?? {}), `no ${key} in ${JSON.stringify(component.config)}`);
        const original = component.config?.[key];
        // Waiting out the real max age would take too long: lower it for this test, put it back afterwards.
        const componentId = component.id;
        restoreConfig = async () => {
          const fresh = await keycloakAdmin(card);
          const current = await fresh.components.findOne({ id: componentId });
          if (current)
            await fresh.components.update(
              { id: componentId },
              { ...current, config: { ...current.config, [key]: original ?? [] } },
            );
          restoreConfig = undefined;
        };
        await admin.components.update(
          { id: componentId },
          { ...component, config: { ...component.config, [key]: ['1'] } },
        );
        const reg = await registerAnonymously(
          card,
          'openid-connect',
          hostRegistration('attack RAT', ['http://127.0.0.1/callback']),
          cleanup,
        );
        assert.ok(reg.clientId && reg.registrationAccessToken, described(reg));
        await sleep(3_000);
        const read = await timedFetch(`${endpoints(card).registrationOidc}/${reg.clientId}`, {
          headers: { authorization: `Bearer ${reg.registrationAccessToken}` },
        });
        await read.body?.cancel();
        assert.ok(
          read.status === 401 || read.status === 403,
          `an expired RAT still reads the client: HTTP ${read.status}`,
        );
      },
    );
  });

  it(
    "the master realm (the bootstrap admin's) has brute-force protection: admin-cli password guessing is bounded",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const admin = await keycloakAdmin(card);
      const master = await admin.realms.findOne({ realm: 'master' });
      assert.equal(master?.bruteForceProtected, true, 'Keycloak creates master with protection off');
      assert.ok((master?.failureFactor ?? 0) > 0 && (master?.failureFactor ?? 0) <= 30);
      // Two quick wrong guesses must not lock the admin out for a minute (a stranger's free denial of service).
      assert.equal(master?.quickLoginCheckMilliSeconds, 0, 'quick-login check off, as in the mcp realm');
    },
  );

  describe('brute force', () => {
    let callback: LoopbackCallback;
    let client: { clientId: string; remove(): Promise<void> } | undefined;
    before(async () => {
      callback = await startLoopbackCallback();
      client = await createAdminCapableClient(card, callback.redirectUri);
    });
    after(async () => {
      await client?.remove().catch(() => {});
      await callback?.close();
    });

    /** `guesses` wrong passwords for a fresh user from "someone else", then the right one: does it still log in? */
    async function rightPasswordAfter(guesses: number): Promise<void> {
      assert.ok(client);
      const login = (credentials: { username: string; password: string }) =>
        loginWithCode(card, {
          clientId: (client as { clientId: string }).clientId,
          callback,
          credentials,
          scope: 'openid mcp:tools',
          jar: new CookieJar(),
        });
      const victim = await createThrowawayUser(card, cleanup);
      for (let attempt = 0; attempt < guesses; attempt += 1) {
        await assert.rejects(
          login({ username: victim.username, password: `wrong-${attempt}-${crypto.randomUUID()}` }),
        );
      }
      // Keycloak records failures asynchronously; under load the count lags the answers by a moment, and an
      // attacker simply waits for it.
      const admin = await keycloakAdmin(card);
      for (let waited = 0; waited < 10_000; waited += 250) {
        const status = (await admin.attackDetection.findOne({ id: victim.id })) as { numFailures?: number };
        if ((status?.numFailures ?? 0) >= guesses) break;
        await sleep(250);
      }
      let tokens: Record<string, unknown> | undefined;
      let failure: unknown;
      try {
        tokens = await login(victim);
      } catch (error) {
        failure = error;
      }
      if (!tokens) {
        const status = await admin.attackDetection.findOne({ id: victim.id });
        assert.fail(
          `the right password no longer logs in after ${guesses} guesses by someone else (brute-force status ${JSON.stringify(status)}): ${String(failure).slice(0, 120)}`,
        );
      }
      assert.equal(typeof tokens.access_token, 'string');
    }

    it(
      '10 wrong passwords do not lock a user out (the right password still logs in afterwards)',
      { timeout: TEST_TIMEOUT_MS },
      () => rightPasswordAfter(10),
    );

    it(
      'a stranger cannot lock a known user out: after 30 wrong passwords in a burst the right one still logs in',
      {
        timeout: TEST_TIMEOUT_MS,
        // Open, reported: Keycloak's brute-force protection counts per user, whoever sends the failures; per-address
        // slowing exists only at the TLS proxy (realm-export/README.md, "Password guessing"). 30 form posts take
        // ~2 s, so anybody who knows a username can lock that person out, and keep them locked with one more
        // wrong password each time a lock ends (measured: one a minute kept a user locked; the lock grows to 15 min).
        todo: 'known open: a temporary per-user lockout (60 s, then relocked by each further failure, up to 15 min) after 30 failures from anyone',
      },
      () => rightPasswordAfter(30),
    );
  });
});
