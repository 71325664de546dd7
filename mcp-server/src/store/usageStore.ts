// What the MCP server needs from its store. Valkey implements it (valkeyStore.ts); unit tests use a fake.

export interface UsageStore {
  /** Counts one tool call for `subject` and returns the new total (atomic across replicas). */
  incrementUsage(subject: string): Promise<number>;
  /** The total so far; 0 for a subject never seen. */
  getUsage(subject: string): Promise<number>;
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
