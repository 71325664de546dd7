// Upgrade of a native stack from an older Keycloak release to the supported one, by the procedure of
// docs/upgrade.md (`npm run test:upgrade`; not part of `npm test`). A PRIVATE stack on its own ports and STACK_DIR
// is started on 26.5.6 and given data: a DCR client, alice (online session) and bob (offline_access) logged in
// through the real form, an M2M token, counted tool calls. Then: backup, stop, KEYCLOAK_VERSION=26.7.3, start.
// After it the last access token 26.5.6 issued still verifies at the MCP server (same realm keys), both refresh
// tokens refresh, alice logs in with her password through the same DCR client, the counts are kept and a new call
// counts. Last, the way back: a start with the old release is refused, the backup is restored and runs on 26.5.6.
// Starts Keycloak four times (once held for the backup): 3–7 min here, 9–11.5 min from an empty cache.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis as Valkey } from 'iovalkey';
import { readStackCard, type StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import {
  authorizationCodeUrl,
  createPkcePair,
  loginThroughBrowserForm,
} from '@mcp-keycloak-stack/mcp-server/test/e2e/support/keycloakLogin';
import {
  startLoopbackCallback,
  type LoopbackCallback,
} from '@mcp-keycloak-stack/mcp-server/test/e2e/support/loopbackCallback';
import { usageCount } from '@mcp-keycloak-stack/mcp-server/test/e2e/support/mcpClient';
import { decodeJwtPayload, user } from '@mcp-keycloak-stack/mcp-server/test/e2e/support/stack';
import {
  clientCredentialsToken,
  postForm,
  type TokenResponse,
} from '@mcp-keycloak-stack/mcp-server/test/e2e/support/tokens';
import { checkEntries, extractTarGz, verifyExtracted } from '../../native/backupArchive.ts';
import { launcher } from '../production/nativeStack.ts';

const FROM = process.env.UPGRADE_FROM ?? '26.5.6';
const TO = process.env.UPGRADE_TO ?? '26.7.3';
/** A start, backup or restore of the launcher, Keycloak's first start on a busy machine included. */
const LAUNCHER_TIMEOUT_MS = 600_000;

/** The counts as Valkey holds them (`mcp:usage:<sub>`, mcp-server/src/store/SCHEMA.md). */
async function storedCounts(card: StackCard, subjects: string[]): Promise<number[]> {
  const client = new Valkey(card.valkeyUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    return (await client.mget(...subjects.map((sub) => `mcp:usage:${sub}`))).map(Number);
  } finally {
    client.disconnect();
  }
}

async function signingKeyIds(card: StackCard): Promise<string[]> {
  const jwks = (await (await fetch(card.jwksUrl as string)).json()) as { keys: { kid: string }[] };
  return jwks.keys.map((key) => key.kid);
}

describe(`upgrade of a native stack from Keycloak ${FROM} to ${TO}`, { concurrency: false }, () => {
  let work: string;
  let stackDir: string;
  let env: NodeJS.ProcessEnv;
  let card: StackCard;
  let callback: LoopbackCallback;
  let archive: string;
  const dcr = { clientId: '', registrationToken: '' };
  const tokens: Record<'alice' | 'bob' | 'm2m', TokenResponse> = {} as never;
  const subjects: Record<'alice' | 'bob' | 'm2m', string> = {} as never;
  const counts = { alice: 0, bob: 0, m2m: 0 };
  let atBackup = { ...counts };
  let keysBefore: string[] = [];
  const timings: Record<string, number> = {};

  const envFor = (version: string | undefined): NodeJS.ProcessEnv => {
    const next = { ...env };
    if (version) next.KEYCLOAK_VERSION = version;
    else delete next.KEYCLOAK_VERSION;
    return next;
  };

  const start = async (what: string, version: string): Promise<string> => {
    const began = Date.now();
    const started = await launcher('start.ts', ['--detach'], envFor(version), LAUNCHER_TIMEOUT_MS);
    assert.equal(started.code, 0, `${what} failed:\n${started.output.slice(-4000)}`);
    timings[what] = Date.now() - began;
    // The launcher's own split (dist, Keycloak, seed, …), for the figures in docs/upgrade.md.
    console.log(`# ${what}: ${/Started in [^\n]*/.exec(started.output)?.[0] ?? ''}`);
    card = (await readStackCard(join(stackDir, 'stack.json'))) as StackCard;
    return started.output;
  };

  const stop = async (what: string) => {
    const began = Date.now();
    const stopped = await launcher('stop.ts', [], env, 180_000);
    assert.equal(stopped.code, 0, stopped.output);
    timings[what] = Date.now() - began;
  };

  /** A person's tokens through the real login form of the DCR client (fresh cookies: the password is asked). */
  const login = async (username: 'alice' | 'bob', scope: string): Promise<TokenResponse> => {
    const pkce = createPkcePair();
    const authorizationUrl = authorizationCodeUrl(`${card.issuer}/protocol/openid-connect/auth`, {
      clientId: dcr.clientId,
      redirectUri: callback.redirectUri,
      scope,
      challenge: pkce.challenge,
      resource: card.mcpUrl,
    });
    const { code } = await loginThroughBrowserForm({ authorizationUrl, ...user(card, username), callback });
    return (await postForm(`${card.issuer}/protocol/openid-connect/token`, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: callback.redirectUri,
      client_id: dcr.clientId,
      code_verifier: pkce.verifier,
      resource: card.mcpUrl,
    })) as unknown as TokenResponse;
  };

  const refresh = async (refreshToken: string): Promise<TokenResponse> =>
    (await postForm(`${card.issuer}/protocol/openid-connect/token`, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: dcr.clientId,
    })) as unknown as TokenResponse;

  const m2mToken = async (): Promise<TokenResponse> => {
    const m2m = card.clients.m2m;
    if (!m2m) throw new Error('the stack card has no M2M client');
    return clientCredentialsToken(`${card.issuer}/protocol/openid-connect/token`, m2m, 'mcp:tools');
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'mcp-upgrade-test-'));
    stackDir = join(work, 'stack');
    archive = join(work, `before-upgrade-${FROM}.tar.gz`);
    env = {
      ...process.env,
      STACK_DIR: stackDir,
      KC_PORT: '22080',
      KC_MANAGEMENT_PORT: '22090',
      MCP_PORT: '22300',
      MCP_METRICS_PORT: '22464',
      VALKEY_PORT: '22379',
      MCP_UPSTREAMS_FILE: '', // the built-in tools only: no upstream processes in this private stack
    };
    delete env.KEYCLOAK_VERSION; // each step names its release (envFor); stop and the rest need none
    callback = await startLoopbackCallback();
  });

  after(async () => {
    await callback?.close();
    if (env) await launcher('stop.ts', [], env, 180_000);
    if (work) await rm(work, { recursive: true, force: true });
    console.log(`# upgrade timings (ms): ${JSON.stringify(timings)}`);
  });

  it(`on ${FROM}: a DCR client, alice and bob through the login form, an M2M token, counted calls`, async () => {
    const output = await start(`start on ${FROM}`, FROM);
    assert.match(
      output,
      new RegExp(`Keycloak ${FROM.replace(/\./g, '\\.')} is accepted only to run a stack`),
    );
    assert.equal((await readFile(join(stackDir, 'keycloak', 'keycloak-version'), 'utf8')).trim(), FROM);

    const response = await fetch(`${card.issuer}/clients-registrations/openid-connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'upgrade test host',
        redirect_uris: [callback.redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        scope: 'openid mcp:tools offline_access',
      }),
    });
    const registered = (await response.json()) as { client_id?: string; registration_access_token?: string };
    assert.equal(response.status, 201, JSON.stringify(registered));
    dcr.clientId = registered.client_id as string;
    dcr.registrationToken = registered.registration_access_token as string;

    tokens.alice = await login('alice', 'openid mcp:tools');
    tokens.bob = await login('bob', 'openid mcp:tools offline_access');
    tokens.m2m = await m2mToken();
    assert.ok(tokens.alice.refresh_token && tokens.bob.refresh_token);
    assert.equal(decodeJwtPayload(tokens.bob.refresh_token).typ, 'Offline');
    for (const who of ['alice', 'bob', 'm2m'] as const) {
      subjects[who] = decodeJwtPayload(tokens[who].access_token).sub as string;
    }
    await usageCount(card.mcpUrl, tokens.alice.access_token);
    counts.alice = await usageCount(card.mcpUrl, tokens.alice.access_token);
    counts.bob = await usageCount(card.mcpUrl, tokens.bob.access_token);
    counts.m2m = await usageCount(card.mcpUrl, tokens.m2m.access_token);
    assert.ok(counts.alice >= 2 && counts.bob >= 1 && counts.m2m >= 1);
    assert.deepEqual(await storedCounts(card, [subjects.alice, subjects.bob, subjects.m2m]), [
      counts.alice,
      counts.bob,
      counts.m2m,
    ]);
    keysBefore = await signingKeyIds(card);
    atBackup = { ...counts };
  });

  it(`the documented procedure: npm run backup, npm run stop, KEYCLOAK_VERSION=${TO}, npm start`, async () => {
    // KEYCLOAK_VERSION left out on purpose (a new shell): the manifest names the release the database is at.
    const began = Date.now();
    const backup = await launcher('backup.ts', ['--out', archive], envFor(undefined), LAUNCHER_TIMEOUT_MS);
    timings.backup = Date.now() - began;
    assert.equal(backup.code, 0, backup.output);
    const unpacked = await mkdtemp(join(work, 'manifest-'));
    await checkEntries(archive);
    await extractTarGz(archive, unpacked);
    assert.equal((await verifyExtracted(unpacked)).keycloakVersion, FROM);
    await rm(unpacked, { recursive: true, force: true });

    // The access token checked after the upgrade is the last one the old release issues (its lifetime is 5 min).
    tokens.alice = await refresh(tokens.alice.refresh_token as string);
    await stop(`stop ${FROM}`);
    const output = await start(`start on ${TO} (upgrade)`, TO);
    assert.match(
      output,
      new RegExp(`upgrading: the database was last run by Keycloak ${FROM.replace(/\./g, '\\.')}`),
    );
    assert.equal((await readFile(join(stackDir, 'keycloak', 'keycloak-version'), 'utf8')).trim(), TO);
    const log = await readFile(join(stackDir, 'logs', 'keycloak.log'), 'utf8');
    assert.match(log, /Migrating older model to/, 'Keycloak did not migrate the database');
  });

  it(`on ${TO}: realm keys, tokens, refresh, password, DCR client and counts are kept; a new call counts`, async (t) => {
    const keysAfter = await signingKeyIds(card);
    const oldKid = (
      JSON.parse(Buffer.from(tokens.alice.access_token.split('.')[0] ?? '', 'base64url').toString()) as {
        kid: string;
      }
    ).kid;
    assert.ok(keysBefore.includes(oldKid) && keysAfter.includes(oldKid), 'the realm signing key changed');

    const exp = decodeJwtPayload(tokens.alice.access_token).exp as number;
    if (exp * 1000 > Date.now() + 10_000) {
      assert.equal(
        await usageCount(card.mcpUrl, tokens.alice.access_token),
        ++counts.alice,
        'old access token',
      );
    } else {
      t.diagnostic(`alice's access token expired before ${TO} was up; its key is kept (checked above)`);
    }

    const aliceRefreshed = await refresh(tokens.alice.refresh_token as string);
    assert.equal(
      await usageCount(card.mcpUrl, aliceRefreshed.access_token),
      ++counts.alice,
      'alice after refresh',
    );
    const bobRefreshed = await refresh(tokens.bob.refresh_token as string);
    assert.equal(
      await usageCount(card.mcpUrl, bobRefreshed.access_token),
      ++counts.bob,
      'bob after offline refresh',
    );
    assert.equal(
      await usageCount(card.mcpUrl, (await m2mToken()).access_token),
      ++counts.m2m,
      'the M2M secret',
    );

    const read = await fetch(`${card.issuer}/clients-registrations/openid-connect/${dcr.clientId}`, {
      headers: { authorization: `Bearer ${dcr.registrationToken}` },
    });
    const client = (await read.json()) as { client_id?: string; redirect_uris?: string[] };
    assert.equal(read.status, 200, JSON.stringify(client));
    assert.deepEqual([client.client_id, client.redirect_uris], [dcr.clientId, [callback.redirectUri]]);

    const fresh = await login('alice', 'openid mcp:tools');
    assert.equal(
      await usageCount(card.mcpUrl, fresh.access_token),
      ++counts.alice,
      'alice, password login on the new release',
    );
    assert.deepEqual(await storedCounts(card, [subjects.alice, subjects.bob, subjects.m2m]), [
      counts.alice,
      counts.bob,
      counts.m2m,
    ]);
  });

  it(`the way back: ${FROM} refused on the upgraded database; the backup restored runs on ${FROM}`, async () => {
    await stop(`stop ${TO}`);
    const refused = await launcher('start.ts', ['--detach'], envFor(FROM), LAUNCHER_TIMEOUT_MS);
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, /keycloak_downgrade/);
    assert.match(refused.output, new RegExp(`last run by Keycloak ${TO.replace(/\./g, '\\.')}`));

    const restored = await launcher('restore.ts', [archive, '--force'], envFor(FROM), LAUNCHER_TIMEOUT_MS);
    assert.equal(restored.code, 0, restored.output);
    await start(`start on ${FROM} after restore`, FROM);
    assert.equal((await readFile(join(stackDir, 'keycloak', 'keycloak-version'), 'utf8')).trim(), FROM);
    // The backup's counts: what was done on the upgraded stack is gone with it. Alice's password still works.
    assert.deepEqual(await storedCounts(card, [subjects.alice, subjects.bob, subjects.m2m]), [
      atBackup.alice,
      atBackup.bob,
      atBackup.m2m,
    ]);
    const again = await login('alice', 'openid mcp:tools');
    assert.equal(await usageCount(card.mcpUrl, again.access_token), atBackup.alice + 1);
  });
});
