// Attack replay: registration exhaustion. An outsider fills the realm with anonymous registrations — past the
// old `max-clients` of 200 — so that real MCP hosts can no longer register. After the burst a real host's
// registration must still succeed. Every client this test made is deleted through the admin REST API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StackCard } from '../../../seed/src/stackCard.ts';
import { loadStack } from '../e2e/support/stack.ts';
import { Cleanup, described, registerAnonymously } from './support/attackKit.ts';

const BURST = 250;
const CONCURRENCY = 10;

describe('attack: registration exhaustion', { concurrency: false, timeout: 900_000 }, () => {
  let card: StackCard;
  const cleanup = new Cleanup(() => card);

  before(async () => {
    card = await loadStack();
  });
  after(async () => {
    await cleanup.run();
  });

  it(
    `after a burst of ${BURST} anonymous registrations a real MCP host still registers`,
    { timeout: 600_000 },
    async () => {
      const statuses = new Map<number, number>();
      let next = 0;
      const worker = async () => {
        while (next < BURST) {
          const n = next++;
          const reg = await registerAnonymously(
            card,
            'openid-connect',
            {
              client_name: `attack flood ${n}`,
              redirect_uris: [`http://127.0.0.1:${20_000 + n}/callback`],
              token_endpoint_auth_method: 'none',
              grant_types: ['authorization_code'],
              response_types: ['code'],
            },
            cleanup,
          ).catch(() => undefined);
          const status = reg?.status ?? 0;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      console.log(`burst answers: ${JSON.stringify(Object.fromEntries(statuses))}`);

      // What Claude Code sends when it meets the server for the first time.
      const host = await registerAnonymously(
        card,
        'openid-connect',
        {
          client_name: 'Claude Code (mcp-keycloak-stack)',
          redirect_uris: ['http://localhost:53682/callback'],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
          scope: 'mcp:tools',
        },
        cleanup,
      );
      assert.equal(host.status, 201, `a real host could not register after the flood: ${described(host)}`);
    },
  );
});
