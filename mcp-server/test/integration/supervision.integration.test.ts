// The native launcher's supervision on the real stack (docs/operations.md): Valkey killed with SIGKILL is
// restarted with its AOF, tool calls fail closed meanwhile, and a subject's usage count survives. The stack is
// shared with the other test files, so the test ends only once Valkey and the MCP server's use of it are back.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { postUsage } from '../e2e/support/mcpClient.ts';
import { loadStack, REPO_ROOT, stackCardPath } from '../e2e/support/stack.ts';
import { clientCredentialsToken } from '../e2e/support/tokens.ts';

const STORE_DOWN = 'The usage store is unavailable; the call was not run. Try again shortly.';

interface ProcessStatus {
  name: string;
  state: string;
  pid: number;
  restarts: number;
}

async function processes(): Promise<ProcessStatus[] | undefined> {
  const lockPath = join(dirname(stackCardPath()), 'launcher.json');
  const lock = JSON.parse(await readFile(lockPath, 'utf8')) as { processes?: ProcessStatus[] };
  return lock.processes;
}

async function valkeyStatus(): Promise<ProcessStatus> {
  const valkey = (await processes())?.find((p) => p.name === 'Valkey');
  if (!valkey)
    throw new Error('the launcher lock lists no Valkey process: is this a native stack (`npm start`)?');
  return valkey;
}

type CallResult = { count: number } | { storeDown: true };

async function callUsage(card: StackCard, token: string): Promise<CallResult> {
  const response = await postUsage(card.mcpUrl, token, 10_000);
  assert.equal(response.status, 200, 'a Valkey outage answers 200 with a tool error, never an HTTP error');
  const body = (await response.json()) as {
    result: { isError?: boolean; content: { type: string; text: string }[] };
  };
  const text = body.result.content[0]?.text ?? '';
  if (body.result.isError) {
    assert.equal(text, STORE_DOWN, 'the documented fail-closed answer');
    return { storeDown: true };
  }
  return { count: (JSON.parse(text) as { count: number }).count };
}

async function within<T>(ms: number, what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${ms / 1000} s`);
    await sleep(200);
  }
}

describe('native supervision on the real stack', { concurrency: false }, () => {
  let card: StackCard;
  let token: string;

  before(async () => {
    card = await loadStack();
    const m2m = card.clients.m2m;
    if (!m2m?.clientSecret) throw new Error('the stack card has no M2M client');
    token = (
      await clientCredentialsToken(
        `${card.issuer}/protocol/openid-connect/token`,
        {
          clientId: m2m.clientId,
          clientSecret: m2m.clientSecret,
        },
        'mcp:tools',
      )
    ).access_token;
  });

  it('Valkey killed with SIGKILL: tool calls fail closed, it is back within 20 s with its AOF, counts kept', async (t) => {
    if (card.mode !== 'native') return t.skip('the stack is not the native one (`npm start`)');
    const before = await valkeyStatus();
    assert.equal(before.state, 'running');
    const counted = await callUsage(card, token);
    assert.ok('count' in counted, 'Valkey is up before the kill');
    // appendfsync everysec: a count older than a second is on disk.
    await sleep(1_500);

    process.kill(before.pid, 'SIGKILL');
    const during = await callUsage(card, token);
    let successfulCalls = 'count' in during ? 1 : 0; // answered by the restarted Valkey already: counted

    const after = await within(20_000, 'Valkey was not running again', async () => {
      const valkey = await valkeyStatus();
      return valkey.state === 'running' && valkey.pid !== before.pid ? valkey : undefined;
    });
    assert.equal(after.restarts, before.restarts + 1);

    const status = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'compose/native/status.ts'],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, STACK_DIR: dirname(stackCardPath()) },
        timeout: 30_000,
      },
    );
    assert.match(
      status.stdout,
      new RegExp(`^Valkey\\s+running\\s+${after.pid}\\s+${after.restarts}\\s`, 'm'),
    );

    // The MCP server reconnects on its own (at most 2 s between attempts); until then calls still fail closed.
    const next = await within(20_000, 'tool calls did not succeed again', async () => {
      const result = await callUsage(card, token);
      return 'count' in result ? result : undefined;
    });
    successfulCalls += 1;
    assert.equal(next.count, counted.count + successfulCalls, 'the count made before the kill survived');
  });
});
