// In-memory stand-ins for unit tests: a UsageStore without Valkey, a logger whose lines can be inspected.
import { pino, type Logger } from 'pino';
import {
  StoreUnavailableError,
  type Admission,
  type RateLimitPolicy,
  type UsageStore,
} from '../../../src/store/usageStore.ts';

/** The same fixed-window semantics as the Valkey script, in memory. */
export class MemoryStore implements UsageStore {
  readonly counts = new Map<string, number>();
  readonly windows = new Map<string, { used: number; resetsAt: number }>();
  /** When true every command fails the way Valkey does when it is down. */
  down = false;
  constructor(readonly policy: RateLimitPolicy = { limit: 0, windowSeconds: 60 }) {}

  private check(): void {
    if (this.down) throw new StoreUnavailableError('Valkey admit failed: Connection is closed.');
  }
  async admit(subject: string, countCall: boolean, upstream?: string): Promise<Admission> {
    this.check();
    // The same split as the Valkey keys: an upstream's window and count are its own.
    const key = upstream === undefined ? subject : `upstream:${upstream}:${subject}`;
    const { limit, windowSeconds } = this.policy;
    let used = 0;
    let resetSeconds = 0;
    if (limit > 0) {
      const now = Date.now();
      let window = this.windows.get(key);
      if (!window || window.resetsAt <= now) {
        window = { used: 0, resetsAt: now + windowSeconds * 1000 };
        this.windows.set(key, window);
      }
      used = ++window.used;
      resetSeconds = Math.max(1, Math.ceil((window.resetsAt - now) / 1000));
      if (used > limit) {
        return { allowed: false, limit, windowSeconds, remaining: 0, resetSeconds, count: null };
      }
    }
    let count: number | null = null;
    if (countCall) {
      count = (this.counts.get(key) ?? 0) + 1;
      this.counts.set(key, count);
    }
    const remaining = limit > 0 ? limit - used : 0;
    return { allowed: true, limit, windowSeconds, remaining, resetSeconds, count };
  }
  async getUsage(subject: string): Promise<number> {
    this.check();
    return this.counts.get(subject) ?? 0;
  }
  async resetUsage(subject: string): Promise<number> {
    this.check();
    const previous = this.counts.get(subject) ?? 0;
    this.counts.delete(subject);
    return previous;
  }
  async ping(): Promise<void> {
    this.check();
  }
  async close(): Promise<void> {}
}

export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}
