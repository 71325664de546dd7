// The verified-token cache: bounded, keyed by a hash, never past the entry's expiry.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { TokenCache } from '../../src/auth/tokenCache.ts';

describe('TokenCache', () => {
  it('keys are SHA-256 of the token (base64url), never the token', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';
    const key = TokenCache.keyOf(token);
    assert.equal(key, createHash('sha256').update(token).digest('base64url'));
    assert.ok(!key.includes(token));
  });

  it('is bounded: the oldest entry goes when full', () => {
    const cache = new TokenCache<string>(2, () => 1_000);
    cache.set('a', 'A', 10_000);
    cache.set('b', 'B', 10_000);
    cache.set('c', 'C', 10_000);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('c'), 'C');
  });

  it('an entry is gone at its expiry, and one already expired is never stored', () => {
    let clock = 1_000;
    const cache = new TokenCache<string>(10, () => clock);
    cache.set('a', 'A', 2_000);
    cache.set('old', 'X', 1_000);
    assert.equal(cache.get('old'), undefined);
    assert.equal(cache.get('a'), 'A');
    clock = 2_000;
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.size, 0);
  });

  it('size 0 stores nothing', () => {
    const cache = new TokenCache<string>(0);
    cache.set('a', 'A', Date.now() + 60_000);
    assert.equal(cache.get('a'), undefined);
  });
});
