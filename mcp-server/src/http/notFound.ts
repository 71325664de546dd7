// Koa middleware placed just before the router: whatever the router left unanswered becomes a JSON 404
// instead of Koa's plain-text "Not Found".
import type { Middleware } from 'koa';

export function notFound(): Middleware {
  return async function notFound(ctx, next) {
    await next();
    if (ctx.status === 404 && ctx.body == null && ctx.respond !== false) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', error_description: `no route for ${ctx.method} ${ctx.path}` };
    }
  };
}
