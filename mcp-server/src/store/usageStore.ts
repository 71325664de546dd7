// What the MCP server needs from its store. Valkey implements it (valkeyStore.ts); unit tests use a fake.

/** The answer to "may this subject make one more request now?", plus what the RateLimit headers say. */
export interface Admission {
  allowed: boolean;
  /** Requests allowed per window; 0 when rate limiting is off. */
  limit: number;
  /** Requests left in the current window (0 when refused). */
  remaining: number;
  /** Window length in seconds (the `w` of the RateLimit-Policy header). */
  windowSeconds: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
  /** The subject's call count after this call, when the request was a counted tool call and admitted. */
  count: number | null;
}

export interface RateLimitPolicy {
  /** Requests per window per subject; 0 turns the limit off. */
  limit: number;
  windowSeconds: number;
}

export interface UsageStore {
  /**
   * One round trip, atomic across replicas: counts the request against the subject's rate limit and, when
   * admitted and `countCall` is true, increments the subject's tool-call count. `upstream` (a gateway
   * upstream's name) keeps that upstream's limit and count apart from the built-in tools' ones.
   */
  admit(subject: string, countCall: boolean, upstream?: string): Promise<Admission>;
  /** The total so far; 0 for a subject never seen. */
  getUsage(subject: string): Promise<number>;
  /** Deletes the subject's count; returns the count it had. */
  resetUsage(subject: string): Promise<number>;
  /** Resolves when the store answers; rejects with StoreUnavailableError otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The store could not be reached or did not answer in time. Callers fail the request, never the process. */
export class StoreUnavailableError extends Error {
  readonly code = 'store_unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
