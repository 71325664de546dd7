// Liveness and readiness. /healthz answers while the process serves HTTP (restart me if not); /readyz also
// checks what a tool call needs (Valkey answers, signing keys can be had), so a balancer can route around us.
import type { Middleware } from 'koa';
import type { AccessTokenVerifier } from '../auth/verifyAccessToken.ts';
import type { UsageStore } from '../store/usageStore.ts';
import type { AppState } from './appState.ts';

export function healthz(): Middleware<AppState> {
  return async function healthz(ctx) {
    ctx.body = { status: 'ok' };
  };
}

type Check = { ok: true } | { ok: false; error: string };

export function readyz(options: { store: UsageStore; verifier: AccessTokenVerifier }): Middleware<AppState> {
  return async function readyz(ctx) {
    const [valkey, jwks] = await Promise.all([
      check(() => options.store.ping()),
      check(() => options.verifier.checkKeys()),
    ]);
    const ready = valkey.ok && jwks.ok;
    if (!ready) ctx.state.log.warn({ valkey, jwks }, 'not ready');
    ctx.set('Cache-Control', 'no-store');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ok' : 'unavailable', checks: { valkey, jwks } };
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
