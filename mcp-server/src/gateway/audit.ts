// The audit trail: one JSON line per tool call on stdout (the process log), whatever its outcome — run,
// refused, failed. Fields: time (pino's, epoch ms), audit: "tool_call", subject, clientId, upstream, tool,
// outcome, durationMs; the call's arguments only when the upstream's `audit.arguments` is true. Reference:
// docs/gateway.md#audit-log.
import type { Logger } from 'pino';

export type AuditOutcome =
  | 'ok'
  | 'tool_error'
  | 'error'
  | 'timeout'
  | 'unavailable'
  | 'cancelled'
  | 'not_offered'
  | 'insufficient_scope'
  | 'role_missing'
  | 'invalid_params'
  | 'rate_limited'
  | 'store_unavailable';

export interface AuditEntry {
  subject: string;
  clientId: string;
  upstream: string;
  tool: string;
}

export interface ToolCallAudit {
  done(outcome: AuditOutcome): void;
}

export function auditToolCall(logger: Logger, entry: AuditEntry, args?: unknown): ToolCallAudit {
  const started = performance.now();
  let written = false;
  return {
    done(outcome) {
      if (written) return;
      written = true;
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      logger.info(
        {
          audit: 'tool_call',
          ...entry,
          outcome,
          durationMs,
          ...(args === undefined ? {} : { arguments: args }),
        },
        'tool call',
      );
    },
  };
}
