// A bounded cache of verified access tokens, so a client reusing its token does not pay for an RSA
// verification on every request (≈ 170 µs with jose, most of the auth budget at thousands of calls/s).
//
// Safety properties (each covered by test/unit/tokenCache.test.ts):
// - keyed by SHA-256 of the token: the raw token is never kept, and a heap dump yields no usable token;
// - an entry never outlives the token's `exp` (no clock tolerance is granted to cached entries);
// - bounded: at most `maxEntries`; when full the oldest entry is dropped (insertion order, O(1));
// - the caller decides, on every hit, whether the entry may still be trusted (e.g. the signing key is
//   still published and the key set is fresh), so removing a key revokes its cached tokens.
import { createHash } from 'node:crypto';

export interface CacheEntry<T> {
  value: T;
  /** Epoch milliseconds after which the entry is dead (the token's `exp`). */
  expiresAtMs: number;
}

export class TokenCache<T> {
  private readonly entries = new Map<string, CacheEntry<T>>();
  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T, expiresAtMs: number): void {
    if (this.maxEntries <= 0 || expiresAtMs <= this.now()) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAtMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
