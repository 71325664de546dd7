// Compose only (run by `npm run test:compose`): the compose Valkey answers only with VALKEY_PASSWORD (carried in
// the stack card's URL, the card being 0600) and has no CONFIG command, like the native one
// (compose/native/valkeyConfig.ts).
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { before, describe, it } from 'node:test';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { loadStack } from '@mcp-keycloak-stack/mcp-server/test/e2e/support/stack';

/**
 * Sends `commands` pipelined on one fresh connection and returns one reply line each (every command used here
 * answers with a simple string or an error: one line).
 */
function replies(url: URL, commands: string[][]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 6379) });
    socket.setTimeout(5_000, () => socket.destroy(new Error('Valkey did not answer within 5 s')));
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const lines = buffer.split('\r\n').slice(0, -1);
      if (lines.length >= commands.length) {
        socket.destroy();
        resolve(lines.slice(0, commands.length));
      }
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`Valkey closed the connection after: ${buffer}`)));
    socket.write(
      commands
        .map((c) => `*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)
        .join(''),
    );
  });
}

describe('compose: Valkey needs its password and has no CONFIG', () => {
  let url: URL;
  let password: string;

  before(async () => {
    const card: StackCard = await loadStack();
    assert.equal(card.mode, 'compose', 'this suite checks a compose stack');
    url = new URL(card.valkeyUrl);
    password = decodeURIComponent(url.password);
    assert.ok(password, 'the card carries the Valkey password in its URL');
  });

  it('answers with the password, and has no CONFIG command even then', async () => {
    const [auth, ping, config] = await replies(url, [['AUTH', password], ['PING'], ['CONFIG', 'GET', 'dir']]);
    assert.equal(auth, '+OK');
    assert.equal(ping, '+PONG');
    assert.match(config ?? '', /^-ERR unknown command/);
  });

  it('refuses a client without it (NOAUTH) and one with a wrong one (WRONGPASS)', async () => {
    assert.match((await replies(url, [['PING']]))[0] ?? '', /^-NOAUTH/);
    const [auth, ping] = await replies(url, [['AUTH', 'not-the-password-at-all'], ['PING']]);
    assert.match(auth ?? '', /^-WRONGPASS/);
    assert.match(ping ?? '', /^-NOAUTH/);
  });
});
