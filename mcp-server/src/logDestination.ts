// Where the process's JSON log lines go: stdout, written once per event-loop turn instead of once per line.
//
// Why: under load the access line's own write(2) was one of three syscalls per request (with the response
// and the Valkey command). Lines logged in one turn (every request whose data arrived in the same poll) now
// leave in one write, still before the loop waits for I/O again: nothing waits on a timer and a quiet server
// holds nothing back. On exit (a fatal error, an uncaught exception, process.exit) the last turn's lines are
// written synchronously first; only a SIGKILL in the middle of a turn can lose that turn's lines. pino's own
// destination (sonic-boom) does the writing, so a full pipe (EAGAIN) is retried as before.
import { pino } from 'pino';

export interface LogDestination {
  write(line: string): void;
  /** Writes what is pending now. */
  flushSync(): void;
}

/** Collects lines and hands them to `out` in one write at the end of the turn (setImmediate). */
export function batchedByTurn(out: { write(chunk: string): unknown }): LogDestination {
  let pending: string[] = [];
  let scheduled = false;
  const flushSync = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const lines = pending.length === 1 ? pending[0]! : pending.join('');
    pending = [];
    out.write(lines);
  };
  return {
    write(line) {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flushSync);
      }
    },
    flushSync,
  };
}

export function turnBatchedStdout(): LogDestination {
  const destination = batchedByTurn(pino.destination({ dest: 1, sync: true }));
  process.on('exit', destination.flushSync);
  return destination;
}
