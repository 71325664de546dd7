// Compose only (run by `npm run test:compose`, which passes COMPOSE_TEST_COMMAND): the stack survives restarts of
// its stateful containers. Keycloak: tokens issued before keep validating, and the realm is not re-imported over
// changes made in it. Valkey: per-user counts come back from the AOF on the named volume.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { connectWithToken, toolJson } from '@mcp-keycloak-stack/mcp-server/test/e2e/support/mcpClient';
import { loadAdminCredentials, loadStack } from '@mcp-keycloak-stack/mcp-server/test/e2e/support/stack';
import { clientCredentialsToken } from '@mcp-keycloak-stack/mcp-server/test/e2e/support/tokens';
import { adminLogin } from '@mcp-keycloak-stack/seed/adminLogin';

const composeCommand = JSON.parse(process.env.COMPOSE_TEST_COMMAND ?? 'null') as string[] | null;

function compose(args: string[]): Promise<string> {
  if (!composeCommand?.[0])
    throw new Error('COMPOSE_TEST_COMMAND is not set: run these through `npm run test:compose`');
  const [cmd, ...rest] = composeCommand;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...rest, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`compose ${args.join(' ')}: exit ${code}\n${out}`)),
    );
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs / 1000}s`);
    await sleep(1000);
  }
}

async function admin(card: StackCard): Promise<KcAdminClient> {
  const client = new KcAdminClient({ baseUrl: card.keycloakUrl, realmName: 'master' });
  await adminLogin(client, await loadAdminCredentials());
  client.setConfig({ realmName: card.realm });
  return client;
}

describe('compose: restarts keep tokens, realm changes and counts', () => {
  let card: StackCard;
  let token: string;
  const tokenEndpoint = () => `${card.issuer}/protocol/openid-connect/token`;
  const callTool = async (name: string, accessToken = token) => {
    const client = await connectWithToken(card.mcpUrl, accessToken);
    try {
      return toolJson(await client.callTool({ name, arguments: {} }));
    } finally {
      await client.close();
    }
  };

  before(async () => {
    card = await loadStack();
    assert.equal(card.mode, 'compose', 'this suite checks a compose stack');
    assert.ok(card.clients.m2m, 'the seed recorded the M2M client');
    token = (await clientCredentialsToken(tokenEndpoint(), card.clients.m2m, 'mcp:tools')).access_token;
  });

  it('restart keycloak: earlier tokens keep validating, the realm is not re-imported over changes', async () => {
    const marker = `changed-after-import-${Date.now()}`;
    await (await admin(card)).realms.update({ realm: card.realm }, { displayName: marker });
    assert.equal((await callTool('whoami')).clientId, card.clients.m2m?.clientId);

    await compose(['restart', 'keycloak']);
    await waitFor(
      'Keycloak after restart',
      async () => (await fetch(`${card.keycloakManagementUrl}/health/ready`)).ok,
    );

    // The token minted before the restart: same keys (in the realm's database), served from the MCP server's cache.
    assert.equal((await callTool('whoami')).clientId, card.clients.m2m?.clientId);
    const realm = await (await admin(card)).realms.findOne({ realm: card.realm });
    assert.equal(realm?.displayName, marker, 'the import ran again and replaced the realm');
    // And a fresh token from the restarted Keycloak is accepted too.
    const fresh = (await clientCredentialsToken(tokenEndpoint(), card.clients.m2m!, 'mcp:tools'))
      .access_token;
    assert.equal((await callTool('whoami', fresh)).clientId, card.clients.m2m?.clientId);
  });

  it('restart valkey: per-user counts survive (AOF on the named volume)', async () => {
    const before = Number((await callTool('usage')).count);
    assert.ok(before >= 1, `usage counts itself (got ${before})`);
    await compose(['restart', 'valkey']);
    await waitFor('MCP server using Valkey again', async () => {
      await callTool('usage');
      return true;
    });
    const afterRestart = Number((await callTool('usage')).count);
    // One call inside waitFor succeeded (maybe more if an earlier one errored after counting); never a reset.
    assert.ok(afterRestart >= before + 2, `count went from ${before} to ${afterRestart}: it did not survive`);
  });
});
