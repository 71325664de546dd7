// Step 5 of POST /mcp: the per-subject rate limit and the tool-call count, one atomic store round trip
// (store/usageStore.ts). Every well-formed message of an authenticated caller counts against the limit — a
// flood of notifications or of refused calls is a flood too — but only a tool call that will run is counted.
// Result: the store's Admission (RateLimit headers set), STORE_DOWN, or a Refusal (429).
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { ParameterizedContext } from 'koa';
import type { AppState } from '../http/appState.ts';
import type { Metrics } from '../metrics.ts';
import { StoreUnavailableError, type Admission, type UsageStore } from '../store/usageStore.ts';
import { Refusal, SERVER_ERROR } from './refusal.ts';
import type { Target } from './target.ts';

export const STORE_DOWN = 'store_down';
export type StoreDown = typeof STORE_DOWN;

export interface AdmissionOptions {
  store: UsageStore;
  metrics: Metrics;
  /** Valkey down: `closed` refuses tool calls (answeredWhileDown), `open` runs them uncounted. */
  storeFailureMode: 'closed' | 'open';
  /** A gateway upstream's name: its limit and counts are its own (store/SCHEMA.md). */
  upstream?: string;
}

export interface AdmissionStep {
  /** `target` is undefined for a notification or a response (nothing to label a refused tool call with). */
  admit(
    ctx: ParameterizedContext<AppState>,
    subject: string,
    countCall: boolean,
    target: Target | undefined,
    id: RequestId | null,
  ): Promise<Admission | StoreDown | Refusal>;
  /**
   * Store down and failing closed: a tool call is answered as a tool error (the client's model can read it)
   * and not run, since it could be neither limited nor counted; other methods are served. True if answered.
   */
  answeredWhileDown(ctx: ParameterizedContext, target: Target, id: RequestId): boolean;
}

export function createAdmission(options: AdmissionOptions): AdmissionStep {
  const { store, metrics, storeFailureMode, upstream } = options;

  async function admit(
    ctx: ParameterizedContext<AppState>,
    subject: string,
    countCall: boolean,
    target: Target | undefined,
    id: RequestId | null,
  ): Promise<Admission | StoreDown | Refusal> {
    let admitted: Admission;
    try {
      admitted = await store.admit(subject, countCall, upstream);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      metrics.storeErrors.inc({ mode: storeFailureMode });
      ctx.state.log.warn({ reason: error.message, mode: storeFailureMode }, 'store unavailable');
      return STORE_DOWN;
    }
    if (admitted.limit > 0) setRateLimitHeaders(ctx, admitted);
    if (admitted.allowed) return admitted;
    metrics.rateLimited.inc();
    if (target !== undefined && target.kind !== 'method') {
      metrics.toolCalls.inc({
        tool: target.kind === 'tool' ? target.name : 'unknown',
        outcome: 'rate_limited',
      });
    }
    return new Refusal(
      'rate_limited',
      429,
      SERVER_ERROR,
      `Too Many Requests: ${admitted.limit} requests per window; retry in ${admitted.resetSeconds} s`,
      id,
      { 'Retry-After': String(admitted.resetSeconds) },
    );
  }

  function answeredWhileDown(ctx: ParameterizedContext, target: Target, id: RequestId): boolean {
    if (target.kind !== 'tool' || storeFailureMode !== 'closed') return false;
    metrics.toolCalls.inc({ tool: target.name, outcome: 'store_unavailable' });
    ctx.status = 200;
    ctx.body = {
      jsonrpc: '2.0',
      id,
      result: {
        isError: true,
        content: [
          { type: 'text', text: 'The usage store is unavailable; the call was not run. Try again shortly.' },
        ],
      },
    };
    return true;
  }

  return { admit, answeredWhileDown };
}

/** draft-ietf-httpapi-ratelimit-headers: the policy and what is left of it. */
function setRateLimitHeaders(ctx: ParameterizedContext, admitted: Admission): void {
  ctx.set('RateLimit-Policy', `"per-subject";q=${admitted.limit};w=${admitted.windowSeconds}`);
  ctx.set('RateLimit', `"per-subject";r=${admitted.remaining};t=${admitted.resetSeconds}`);
}
