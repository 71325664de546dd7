// Koa middleware around the router: koa-router answers a method it does not know at all (PROPFIND, BREW, …)
// with 501, a server error for what is a client's mistake. It becomes a JSON 405; the router's Allow stays.
import type { Middleware } from 'koa';

export function unknownMethod(): Middleware {
  return async function unknownMethod(ctx, next) {
    await next();
    if (ctx.status === 501 && ctx.body == null) {
      ctx.status = 405;
      ctx.body = {
        error: 'method_not_allowed',
        error_description: `${ctx.method.slice(0, 32)} is not supported here`,
      };
    }
  };
}
