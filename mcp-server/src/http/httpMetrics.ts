// Koa middleware: one latency observation per HTTP request, labelled by the matched route pattern (bounded),
// never by the raw path.
import type { Middleware } from 'koa';
import type { Metrics } from '../metrics.ts';

export function httpMetrics(options: { metrics: Metrics }): Middleware {
  const { httpDuration } = options.metrics;
  return async function httpMetrics(ctx, next) {
    const started = performance.now();
    ctx.res.once('close', () => {
      const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      httpDuration.observe(
        {
          route: typeof route === 'string' ? route : 'unmatched',
          method: ctx.method,
          // Not Koa's default 404 for a request the client abandoned before any status was sent.
          status: ctx.res.headersSent ? String(ctx.res.statusCode) : 'aborted',
        },
        (performance.now() - started) / 1000,
      );
    });
    await next();
  };
}
