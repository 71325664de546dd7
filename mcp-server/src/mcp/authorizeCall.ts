// Step 4 of POST /mcp: the authorization decision for the target (auth/authorize.ts) — taken before
// admission, since only a call that will run is counted, but answered after it (a refused call still costs
// rate limit).
// Result: a Decision, and then undefined (dispatch) or a Refusal (unknown tool -32602, 403 -32003).
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { ParameterizedContext } from 'koa';
import { ALLOW, authorize, type Decision } from '../auth/authorize.ts';
import type { VerifiedToken } from '../auth/verifiedToken.ts';
import type { AppState } from '../http/appState.ts';
import type { Metrics } from '../metrics.ts';
import { FORBIDDEN, INVALID_PARAMS, Refusal } from './refusal.ts';
import type { Target } from './target.ts';

/** A method needs nothing beyond the request-level rule bearerAuth decided; a tool its own rule. */
export function decideCall(token: VerifiedToken, target: Target): Decision {
  return target.kind === 'tool' ? authorize(token, target.rule) : ALLOW;
}

export interface CallRefusalOptions {
  metrics: Metrics;
  /** ProtectedResource.challenge: the one place a decision becomes a `WWW-Authenticate` value. */
  challenge: (decision: Decision) => string | undefined;
}

export type RefuseCall = (
  ctx: ParameterizedContext<AppState>,
  target: Target,
  decision: Decision,
  id: RequestId,
) => Refusal | undefined;

export function callRefusal(options: CallRefusalOptions): RefuseCall {
  const { metrics, challenge } = options;
  return function refuseCall(ctx, target, decision, id) {
    if (target.kind === 'unknown_tool') {
      // Fail closed: a tool without a declared access rule is never dispatched.
      metrics.toolCalls.inc({ tool: 'unknown', outcome: 'unknown_tool' });
      const name = JSON.stringify(target.name.slice(0, 64));
      return new Refusal('unknown_tool', 200, INVALID_PARAMS, `Unknown tool: ${name}`, id);
    }
    if (decision.allowed || target.kind !== 'tool') return undefined;
    if (decision.status !== 403) throw new Error(`unreachable: a tool decision of ${decision.status}`);
    metrics.toolCalls.inc({ tool: target.name, outcome: decision.code });
    ctx.state.authFailure = decision.code;
    // RFC 6750 §3.1 + MCP spec §Scope Challenge Handling: a missing scope gets a challenge naming the scopes
    // this call needs, so the client can step up and retry; a missing role none (a new token cannot add it).
    const header = challenge(decision);
    const message =
      decision.code === 'insufficient_scope'
        ? `Forbidden: the ${target.name} tool needs the scopes ${decision.scope}`
        : `Forbidden: the ${target.name} tool needs the realm role(s) ${decision.missing.join(', ')}`;
    return new Refusal(
      decision.code,
      403,
      FORBIDDEN,
      message,
      id,
      header ? { 'WWW-Authenticate': header } : undefined,
    );
  };
}
