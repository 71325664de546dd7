// In-memory stand-ins for unit tests: a UsageStore without Valkey, a logger whose lines can be inspected.
import { pino, type Logger } from 'pino';
import { StoreUnavailableError, type UsageStore } from '../../../src/store/usageStore.ts';

export class MemoryStore implements UsageStore {
  readonly counts = new Map<string, number>();
  /** When true every command fails the way Valkey does when it is down. */
  down = false;

  private check(): void {
    if (this.down) throw new StoreUnavailableError('Valkey INCR failed: Connection is closed.');
  }
  async incrementUsage(subject: string): Promise<number> {
    this.check();
    const next = (this.counts.get(subject) ?? 0) + 1;
    this.counts.set(subject, next);
    return next;
  }
  async getUsage(subject: string): Promise<number> {
    this.check();
    return this.counts.get(subject) ?? 0;
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
