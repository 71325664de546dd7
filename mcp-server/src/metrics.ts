// Prometheus metrics (prom-client, the de-facto Node library). One registry per app so tests and several
// apps in one process never share counters. Labels are bounded: reason codes, tool names, outcomes, routes;
// never a subject, client id or token.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { VerifyOutcome } from './auth/verifyAccessToken.ts';

export interface Metrics {
  registry: Registry;
  authOutcomes: Counter<'outcome'>;
  toolCalls: Counter<'tool' | 'outcome'>;
  toolCallDuration: Histogram<'tool'>;
  httpDuration: Histogram<'route' | 'method' | 'status'>;
  rateLimited: Counter;
  storeErrors: Counter<'mode'>;
  tokenVerifications: Counter<'result'>;
  /** mcp_valkey_up: 1 while Valkey answers, 0 while it does not. */
  valkeyUp: Gauge;
  verifyOutcome(outcome: VerifyOutcome): void;
  /** What the store learnt of Valkey (an operation's outcome, a connection that came or went). */
  valkeyAvailability(up: boolean): void;
  /**
   * The PING each scrape runs to measure mcp_valkey_up when it is read, so the value is current even when no
   * request and no readiness probe has reached the server since the last change (createApp sets it).
   */
  probeValkeyWith(ping: () => Promise<void>): void;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'mcp_' });
  const tokenVerifications = new Counter({
    name: 'mcp_token_verifications_total',
    help: 'Token checks by result: cache_hit (verified earlier, same token), verified (signature checked or introspected), rejected',
    labelNames: ['result'],
    registers: [registry],
  });
  // Valkey's availability, kept current two ways: the store sets it on every operation's outcome and every
  // connection change (valkeyStore.ts: a closed connection shows at once, no request needed), and each scrape
  // measures it with one PING (bounded by the client's command timeout) — which also catches a Valkey that hangs
  // with its connection open, and costs nothing while nobody scrapes. No timer of its own to stop on drain.
  let ping: (() => Promise<void>) | undefined;
  const valkeyUp = new Gauge({
    name: 'mcp_valkey_up',
    help: 'Whether Valkey answers this server: 1 yes, 0 no (tool calls then fail closed, or run uncounted with MCP_STORE_FAILURE_MODE=open); measured at each scrape and on every store operation',
    registers: [registry],
    async collect() {
      if (ping)
        await ping().then(
          () => this.set(1),
          () => this.set(0),
        );
    },
  });
  const authOutcomes = new Counter({
    name: 'mcp_auth_outcomes_total',
    help: 'Requests to /mcp by bearer auth outcome: ok, or the AuthError reason code (token_missing, token_expired, audience_mismatch, insufficient_scope, …)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  return {
    registry,
    authOutcomes,
    toolCalls: new Counter({
      name: 'mcp_tool_calls_total',
      help: 'tools/call requests by tool and outcome (ok, tool_error, error, insufficient_scope, role_missing, rate_limited, store_unavailable, unknown_tool)',
      labelNames: ['tool', 'outcome'],
      registers: [registry],
    }),
    toolCallDuration: new Histogram({
      name: 'mcp_tool_call_duration_seconds',
      help: 'Time from dispatch to the MCP server until its answer, per tool',
      labelNames: ['tool'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'mcp_http_request_duration_seconds',
      help: 'HTTP request duration by route, method and status',
      labelNames: ['route', 'method', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'mcp_rate_limited_total',
      help: 'Requests refused with 429 by the per-subject rate limit',
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: 'mcp_store_unavailable_total',
      help: 'Requests that met an unavailable Valkey, by the configured failure mode',
      labelNames: ['mode'],
      registers: [registry],
    }),
    tokenVerifications,
    valkeyUp,
    verifyOutcome(outcome) {
      tokenVerifications.inc({
        result: outcome.ok ? (outcome.cached ? 'cache_hit' : 'verified') : 'rejected',
      });
    },
    valkeyAvailability(up) {
      valkeyUp.set(up ? 1 : 0);
    },
    probeValkeyWith(probe) {
      ping = probe;
    },
  };
}
