// Liveness and readiness. /healthz answers while the process serves HTTP (restart me if not); /readyz also
// checks what a tool call needs (Valkey answers, tokens can be checked), so a balancer can route around us.
// The token check is named for what the verifier really probes: `jwks` (signing keys cached or fetchable) or
// `introspection` (the issuer's introspection endpoint answers).
// Valkey down with MCP_STORE_FAILURE_MODE=open: still ready (calls run uncounted), and the body says so.
// While draining on shutdown: 503, so balancers stop sending new requests.
import type { Middleware } from 'koa';
import type { AccessTokenVerifier } from '../auth/verifyAccessToken.ts';
import type { UsageStore } from '../store/usageStore.ts';
import type { AppState } from './appState.ts';

export function healthz(): Middleware<AppState> {
  return async function healthz(ctx) {
    ctx.body = { status: 'ok' };
  };
}

type Check = { ok: true } | { ok: false; error: string; degraded?: string };

/** What `verifier.checkKeys()` probes, by verification mode; the key under `checks` in the answer. */
export type TokenCheck = 'jwks' | 'introspection';

export function readyz(options: {
  store: UsageStore;
  verifier: AccessTokenVerifier;
  tokenCheck: TokenCheck;
  storeFailureMode: 'closed' | 'open';
  draining: () => boolean;
  /** The gateway's upstreams, reported but never deciding readiness: one down upstream leaves the rest. */
  upstreams?: () => Record<string, unknown>;
}): Middleware<AppState> {
  const { tokenCheck } = options;
  return async function readyz(ctx) {
    const [valkey, tokens] = await Promise.all([
      check(() => options.store.ping()),
      check(() => options.verifier.checkKeys()),
    ]);
    if (!valkey.ok) {
      valkey.degraded =
        options.storeFailureMode === 'open'
          ? 'tool calls run uncounted and without rate limit (MCP_STORE_FAILURE_MODE=open)'
          : 'tool calls are refused until Valkey is back (MCP_STORE_FAILURE_MODE=closed)';
    }
    const draining = options.draining();
    const ready = !draining && tokens.ok && (valkey.ok || options.storeFailureMode === 'open');
    if (!ready) ctx.state.log.warn({ valkey, [tokenCheck]: tokens, draining }, 'not ready');
    ctx.set('Cache-Control', 'no-store');
    ctx.status = ready ? 200 : 503;
    ctx.body = {
      status: draining ? 'draining' : ready ? (valkey.ok ? 'ok' : 'degraded') : 'unavailable',
      checks: { valkey, [tokenCheck]: tokens },
      ...(options.upstreams ? { upstreams: options.upstreams() } : {}),
    };
  };
}

async function check(probe: () => Promise<void>): Promise<Check> {
  try {
    await probe();
    return { ok: true };
  } catch (error) {
    return { ok: false, error: describe(error) };
  }
}

/** The innermost reason: fetch's "fetch failed" hides "connect ECONNREFUSED …" in its cause chain. */
function describe(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
