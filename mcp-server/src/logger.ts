// The process logger: JSON lines on stdout (pino), written once per event-loop turn (logDestination.ts).
// Nothing logs headers; the redaction below is a second line of defence should someone log a request or an
// AuthInfo object by mistake.
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.ts';
import { turnBatchedStdout, type LogDestination } from './logDestination.ts';

// One for the process: the main and the audit logger share its writes (and its flush on exit).
let stdout: LogDestination | undefined;

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
    (stdout ??= turnBatchedStdout()),
  );
}
