// Compose only (run by `npm run test:compose`): the stack card as the compose stack leaves it. The seed writes it
// "starting"; the stack-ready one-shot marks it ready once the MCP server's /readyz and the realm answered
// (seed/src/markReady.ts). Both write as the owner of the card folder, whoever that is (seed/src/cardFolder.ts).
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { readStackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { stackCardPath } from '@mcp-keycloak-stack/mcp-server/test/e2e/support/stack';

describe('compose: the stack card', () => {
  it('says ready, with readyAt and startupMs from the seed start, once every service is healthy', async () => {
    const card = await readStackCard(stackCardPath());
    assert.ok(card, `no stack card at ${stackCardPath()}`);
    assert.equal(card.mode, 'compose');
    assert.equal(card.status, 'ready', 'stack-ready did not mark the card ready');
    const startedAt = Date.parse(card.startedAt ?? '');
    const readyAt = Date.parse(card.readyAt ?? '');
    assert.ok(Number.isFinite(startedAt) && Number.isFinite(readyAt), 'startedAt and readyAt are dates');
    assert.ok(readyAt >= startedAt, `readyAt ${card.readyAt} before startedAt ${card.startedAt}`);
    assert.equal(card.startupMs, readyAt - startedAt);
  });

  it('belongs to the owner of its folder, mode 0600, and so does secrets.json', async () => {
    const folder = await stat(dirname(stackCardPath()));
    for (const path of [stackCardPath(), join(dirname(stackCardPath()), 'secrets.json')]) {
      const file = await stat(path);
      assert.deepEqual(
        { uid: file.uid, gid: file.gid, mode: file.mode & 0o777 },
        { uid: folder.uid, gid: folder.gid, mode: 0o600 },
        path,
      );
    }
  });
});
