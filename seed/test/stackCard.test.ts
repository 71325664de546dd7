import assert from 'node:assert/strict';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  readStackCard,
  StackCardError,
  updateStackCard,
  writeStackCard,
  type StackCard,
} from '../src/stackCard.ts';

const card: StackCard = {
  version: 1,
  mode: 'native',
  issuer: 'http://localhost:8080/realms/mcp',
  keycloakUrl: 'http://localhost:8080',
  realm: 'mcp',
  mcpUrl: 'http://localhost:3000/mcp',
  resourceMetadataUrl: 'http://localhost:3000/.well-known/oauth-protected-resource/mcp',
  valkeyUrl: 'redis://127.0.0.1:6379',
  users: [],
  clients: {},
};

describe('stack card', () => {
  it('is written with mode 0600 and read back', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'card-')), 'stack.json');
    await writeStackCard(path, card);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readStackCard(path), card);
  });

  it('a missing card reads as undefined; a broken one is a clear error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'card-'));
    assert.equal(await readStackCard(join(dir, 'none.json')), undefined);
    await writeFile(join(dir, 'bad.json'), '{');
    await assert.rejects(readStackCard(join(dir, 'bad.json')), StackCardError);
    await writeFile(join(dir, 'v2.json'), '{"version":2}');
    await assert.rejects(readStackCard(join(dir, 'v2.json')), /not a version 1 stack card/);
  });

  it('update keeps the fields it does not change', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'card-')), 'stack.json');
    await writeStackCard(path, card);
    await updateStackCard(path, (c) => ({ ...c, status: 'ready' }));
    assert.deepEqual(await readStackCard(path), { ...card, status: 'ready' });
  });
});
