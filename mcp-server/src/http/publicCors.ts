// Koa middleware: CORS for public, credential-free documents (the protected resource metadata). Browser-based
// MCP clients fetch them cross-origin, and the SDK adds an MCP-Protocol-Version header, hence the preflight.
import type { Middleware } from 'koa';

export function publicCors(): Middleware {
  return async function publicCors(ctx, next) {
    ctx.set('Access-Control-Allow-Origin', '*');
    if (ctx.method === 'OPTIONS') {
      ctx.set('Access-Control-Allow-Methods', 'GET, OPTIONS');
      const requested = ctx.get('access-control-request-headers');
      if (requested) ctx.set('Access-Control-Allow-Headers', requested);
      ctx.set('Access-Control-Max-Age', '86400');
      ctx.status = 204;
      return;
    }
    await next();
  };
}
