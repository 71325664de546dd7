// Attack replay: registration exhaustion. An outsider fills the realm with anonymous registrations — past the
// old `max-clients` of 200 — so that real MCP hosts can no longer register. After the burst a real host's
// registration must still succeed. Every client this test made is deleted through the admin REST API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { loadStack } from '../e2e/support/stack.ts';
import {
  Cleanup,
  described,
  hostRegistration,
  keycloakAdmin,
  registerAnonymously,
  type Registration,
} from './support/attackKit.ts';

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
            hostRegistration(`attack flood ${n}`, [`http://127.0.0.1:${20_000 + n}/callback`]),
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

  it(
    'a flood up to max-clients does not lock real MCP hosts out (lowered limit: same mechanism, fewer requests)',
    {
      timeout: 600_000,
      // Open, reported: anonymous registration has no per-address limit inside Keycloak (only at the TLS proxy),
      // and the janitor frees a flood's clients only after DCR_UNUSED_CLIENT_SECONDS. Runs, never fails the suite.
      todo: 'known open: a flood from one address fills max-clients until the janitor frees it',
    },
    async () => {
      // The realm's anonymous `max-clients` is 1000 and counts every client; the janitor only deletes clients
      // older than a day (DCR_UNUSED_CLIENT_SECONDS), and nothing limits registrations per address natively. So
      // ~985 anonymous POSTs (a minute of work) lock every new MCP host out for a day, and the attacker repeats
      // it daily. To keep the load small the limit is lowered to (clients now + HEADROOM) for this test, which
      // is exactly the state a 1000-strong flood leaves behind, then put back.
      const HEADROOM = 30;
      const admin = await keycloakAdmin(card);
      const components = await admin.components.find({
        type: 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy',
      });
      const component = components.find((c) => c.providerId === 'max-clients' && c.subType === 'anonymous');
      assert.ok(component?.id, 'the realm has no anonymous max-clients policy');
      const componentId = component.id;
      const original = component.config?.['max-clients'];
      const restore = async () => {
        const fresh = await keycloakAdmin(card);
        const current = await fresh.components.findOne({ id: componentId });
        if (current)
          await fresh.components.update(
            { id: componentId },
            { ...current, config: { ...current.config, 'max-clients': original ?? ['1000'] } },
          );
      };
      cleanup.restore(restore);
      const clientsNow = (await admin.clients.find({ first: 0, max: 2000 })).length;
      await admin.components.update(
        { id: componentId },
        { ...component, config: { ...component.config, 'max-clients': [String(clientsNow + HEADROOM)] } },
      );
      let accepted = 0;
      let host: Registration | undefined;
      try {
        for (let n = 0; n < HEADROOM + 5; n += 1) {
          const reg = await registerAnonymously(
            card,
            'openid-connect',
            hostRegistration(`attack fill ${n}`, [`http://127.0.0.1:${21_000 + n}/callback`]),
            cleanup,
          );
          if (reg.status !== 201) break;
          accepted += 1;
        }
        console.log(`flood: ${accepted} anonymous registrations accepted before the limit`);
        host = await registerAnonymously(
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
      } finally {
        await restore();
      }
      assert.ok(host, 'no host registration was sent');
      assert.equal(
        host.status,
        201,
        `after ${accepted} anonymous registrations filled the realm a real host could not register: ${described(host)}`,
      );
    },
  );
});
