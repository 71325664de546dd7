// The Valkey store when Valkey is not there: typed errors, fast, and no crash. (The happy path runs against
// a real Valkey in the end-to-end suite.)
import assert from 'node:assert/strict';
import { closedPort } from './support/closedPort.ts';
import { describe, it } from 'node:test';
import { createValkeyStore, usageKey } from '../../src/store/valkeyStore.ts';
import { StoreUnavailableError } from '../../src/store/usageStore.ts';
import { memoryLogger } from './support/fakes.ts';

describe('createValkeyStore', () => {
  it('keys usage counts as mcp:usage:<sub> (src/store/SCHEMA.md)', () => {
    assert.equal(
      usageKey('f3b1c2d4-0000-4000-8000-000000000001'),
      'mcp:usage:f3b1c2d4-0000-4000-8000-000000000001',
    );
  });

  it('with Valkey down: connect and commands reject with StoreUnavailableError quickly, one log line', async () => {
    const { logger, lines } = memoryLogger();
    const store = createValkeyStore({
      url: `redis://127.0.0.1:${await closedPort()}`,
      logger,
      rateLimit: { limit: 10, windowSeconds: 60 },
    });
    try {
      await assert.rejects(store.connect(), StoreUnavailableError);
      const started = Date.now();
      await assert.rejects(store.admit('alice', true), (error: unknown) => {
        assert.ok(error instanceof StoreUnavailableError);
        assert.equal(error.code, 'store_unavailable');
        return true;
      });
      await assert.rejects(store.getUsage('alice'), StoreUnavailableError);
      await assert.rejects(store.resetUsage('alice'), StoreUnavailableError);
      await assert.rejects(store.ping(), StoreUnavailableError);
      assert.ok(Date.now() - started < 500, `commands must fail fast, took ${Date.now() - started} ms`);
      // Let a few reconnect attempts fail: each emits 'error', which must neither crash nor flood the log.
      await new Promise((resolve) => setTimeout(resolve, 700));
      const warnings = lines.filter((line) => line.includes('Valkey unavailable'));
      assert.equal(warnings.length, 1);
    } finally {
      await store.close();
    }
  });
});
