// The process logger: JSON lines on stdout (pino). Nothing logs headers; the redaction below is a second
// line of defence should someone log a request or an AuthInfo object by mistake.
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

// One asynchronous stdout for every logger of the process (the main one and the audit trail): under load
// sonic-boom gathers the lines written while a write is in progress into the next one instead of one
// synchronous write(2) per line (5.5 % of the server's busy time in `npm run bench -- --profile`). Lines are
// whole and in order; pino flushes synchronously at exit, so a crash or process.exit keeps them — only a
// SIGKILL can lose the lines of the last few milliseconds. One stream, because two writers on one pipe could
// interleave the pieces of a partial write.
let stdout: DestinationStream | undefined;
const sharedStdout = () => (stdout ??= pino.destination({ dest: 1, sync: false }));

export function createLogger(level: LogLevel): Logger {
  return pino(
    {
      level,
      base: { service: 'mcp-server' },
      redact: {
        paths: [
          'authorization',
          'token',
          '*.authorization',
          '*.token',
          '*.headers.authorization',
          '*.headers.cookie',
        ],
        censor: '[redacted]',
      },
    },
    sharedStdout(),
  );
}
