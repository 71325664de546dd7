// `npm run backup` / `npm run restore` round trip (issue 13, docs/operations.md "Backup and restore") on a
// PRIVATE native stack this test starts itself (own STACK_DIR, free ports): a DCR client, an M2M and a user token,
// usage counts; a backup taken while the stack runs; stop, wipe, restore, start; then the old tokens still
// verify at the MCP server (same realm keys), the DCR client still logs alice in with her password, the M2M
// secret still works and the counts are those of the backup. Starts Keycloak twice (and holds it once): ≈ 1–3 min.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readStackCard, type StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { checkEntries, extractTarGz, verifyExtracted } from '../../../compose/native/backupArchive.ts';
import { launcher } from '../../../compose/test/production/nativeStack.ts';
import {
  authorizationCodeUrl,
  createPkcePair,
  loginThroughBrowserForm,
} from '../e2e/support/keycloakLogin.ts';
import { startLoopbackCallback, type LoopbackCallback } from '../e2e/support/loopbackCallback.ts';
import { usageCount } from '../e2e/support/mcpClient.ts';
import { freePort } from '../e2e/support/mcpServerProcess.ts';
import { user } from '../e2e/support/stack.ts';
import { clientCredentialsToken, postForm } from '../e2e/support/tokens.ts';

describe('backup and restore round trip on a private native stack', { concurrency: false }, () => {
  let work: string;
  let stackDir: string;
  let env: NodeJS.ProcessEnv;
  let card: StackCard;
  let callback: LoopbackCallback;
  let dcrClientId: string;
  let m2mToken: string;
  let aliceToken: string;
  const counts = { m2m: 0, alice: 0 };
  let archive: string;
  const timings: Record<string, number> = {};

  const loginAlice = async (): Promise<string> => {
    const pkce = createPkcePair();
    const authorizationUrl = authorizationCodeUrl(`${card.issuer}/protocol/openid-connect/auth`, {
      clientId: dcrClientId,
      redirectUri: callback.redirectUri,
      scope: 'openid mcp:tools',
      challenge: pkce.challenge,
      resource: card.mcpUrl,
    });
    const { code } = await loginThroughBrowserForm({ authorizationUrl, ...user(card, 'alice'), callback });
    const tokens = await postForm(`${card.issuer}/protocol/openid-connect/token`, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: callback.redirectUri,
      client_id: dcrClientId,
      code_verifier: pkce.verifier,
      resource: card.mcpUrl,
    });
    return tokens.access_token as string;
  };

  const m2mTokenNow = async () => {
    const m2m = card.clients.m2m;
    if (!m2m) throw new Error('the stack card has no M2M client');
    return (await clientCredentialsToken(`${card.issuer}/protocol/openid-connect/token`, m2m, 'mcp:tools'))
      .access_token;
  };

  const start = async (what: string) => {
    const began = Date.now();
    const started = await launcher('start.ts', ['--detach'], env);
    assert.equal(started.code, 0, `${what} failed:\n${started.output.slice(-4000)}`);
    timings[what] = Date.now() - began;
    card = (await readStackCard(join(stackDir, 'stack.json'))) as StackCard;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'mcp-backup-test-'));
    stackDir = join(work, 'stack');
    env = {
      ...process.env,
      STACK_DIR: stackDir,
      KC_PORT: String(await freePort()),
      KC_MANAGEMENT_PORT: String(await freePort()),
      MCP_PORT: String(await freePort()),
      MCP_METRICS_PORT: String(await freePort()),
      VALKEY_PORT: String(await freePort()),
      MCP_UPSTREAMS_FILE: '', // the built-in tools only: no upstream processes in this private stack
    };
    callback = await startLoopbackCallback();
    await start('first start');
  });

  after(async () => {
    await callback?.close();
    if (env) await launcher('stop.ts', [], env, 120_000);
    if (work) await rm(work, { recursive: true, force: true });
    console.log(`# backup/restore timings: ${JSON.stringify(timings)}`);
  });

  it('before: a DCR client, a user token and an M2M token, usage counted', async () => {
    const response = await fetch(`${card.issuer}/clients-registrations/openid-connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'backup round-trip host',
        redirect_uris: [callback.redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        scope: 'openid mcp:tools',
      }),
    });
    const body = (await response.json()) as { client_id?: string };
    assert.equal(response.status, 201, JSON.stringify(body));
    dcrClientId = body.client_id as string;
    aliceToken = await loginAlice();
    m2mToken = await m2mTokenNow();
    await usageCount(card.mcpUrl, m2mToken);
    counts.m2m = await usageCount(card.mcpUrl, m2mToken);
    counts.alice = await usageCount(card.mcpUrl, aliceToken);
    assert.ok(counts.m2m >= 2 && counts.alice >= 1);
  });

  it('backup of the running stack: one 0600 archive; Keycloak held and back', async () => {
    archive = join(work, 'backup.tar.gz');
    const began = Date.now();
    const backup = await launcher('backup.ts', ['--out', archive], env);
    timings.backup = Date.now() - began;
    assert.equal(backup.code, 0, backup.output);
    assert.match(backup.output, /Keycloak: database copied; it was down/);
    assert.equal((await stat(archive)).mode & 0o777, 0o600);
    // After the backup: a call it does not hold (the restore must bring the count back to before it).
    assert.equal(await usageCount(card.mcpUrl, m2mToken), counts.m2m + 1);
  });

  it('restore refuses a running stack, a fresh dir gets nothing from a corrupt archive', async () => {
    const busy = await launcher('restore.ts', [archive], env);
    assert.notEqual(busy.code, 0);
    assert.match(busy.output, /a stack is running in/);

    const stopped = await launcher('stop.ts', [], env, 120_000);
    assert.equal(stopped.code, 0, stopped.output);
    // A stopped stack backs up too (its AOF folder as it is on disk), and the archive checks out.
    const offline = join(work, 'offline.tar.gz');
    const stoppedBackup = await launcher('backup.ts', ['--out', offline], env);
    assert.equal(stoppedBackup.code, 0, stoppedBackup.output);
    assert.match(stoppedBackup.output, /Keycloak: database copied \(stack stopped\)/);
    const unpacked = await mkdtemp(join(work, 'offline-'));
    await checkEntries(offline);
    await extractTarGz(offline, unpacked);
    const manifest = await verifyExtracted(unpacked);
    assert.equal(manifest.stackWasRunning, false);
    assert.equal(manifest.secrets, 'plain');
    await rm(stackDir, { recursive: true, force: true });

    const corrupt = join(work, 'corrupt.tar.gz');
    const bytes = await readFile(archive);
    await writeFile(corrupt, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const refused = await launcher('restore.ts', [corrupt], env);
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, /restore failed/);
    assert.ok(!existsSync(join(stackDir, 'keycloak')), 'a refused restore left a Keycloak database behind');
  });

  it('restore into the wiped stack dir, then start: tokens, client, passwords and counts are back', async () => {
    const restored = await launcher('restore.ts', [archive], env);
    assert.equal(restored.code, 0, restored.output);
    await start('start after restore');

    // Issued before the backup and still within their lifetime: the restored realm keys still verify them.
    assert.equal(
      await usageCount(card.mcpUrl, m2mToken),
      counts.m2m + 1,
      "M2M count: the backup's, plus this call",
    );
    assert.equal(
      await usageCount(card.mcpUrl, aliceToken),
      counts.alice + 1,
      "alice's count: the backup's, plus this call",
    );
    // The M2M secret from the restored card, and alice's password through the restored DCR client.
    assert.ok(await m2mTokenNow());
    const fresh = await loginAlice();
    assert.equal(await usageCount(card.mcpUrl, fresh), counts.alice + 2);
  });
});
