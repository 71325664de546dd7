// Koa middleware for /mcp: the Origin allow-list (MCP spec 2025-11-25 §Security Warning: servers MUST
// validate Origin to prevent DNS rebinding) and CORS for the browser clients that pass it.
//
// A request without Origin is not from a browser page (or is same-origin navigation) and passes: DNS
// rebinding needs a page in a browser, and browsers always send Origin on cross-origin POSTs. No
// credentials mode: tokens travel in Authorization, never in cookies, so `*`-free, origin-echoing CORS
// without Allow-Credentials is enough.
import type { Middleware } from 'koa';
import type { AppState } from './appState.ts';

const EXPOSED = [
  'WWW-Authenticate',
  'Mcp-Session-Id',
  'MCP-Protocol-Version',
  'RateLimit',
  'RateLimit-Policy',
  'Retry-After',
  'X-Request-Id',
].join(', ');
const ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Accept',
  'MCP-Protocol-Version',
  'Mcp-Session-Id',
  'Last-Event-ID',
  'X-Request-Id',
].join(', ');

export function mcpCors(options: { allowedOrigins: readonly string[] }): Middleware<AppState> {
  const any = options.allowedOrigins.includes('*');
  const allowed = new Set(options.allowedOrigins);
  return async function mcpCors(ctx, next) {
    const origin = ctx.get('origin');
    ctx.vary('Origin');
    if (origin) {
      if (!any && !allowed.has(origin)) {
        ctx.state.authFailure = 'origin_not_allowed';
        ctx.status = 403;
        ctx.body = {
          error: 'origin_not_allowed',
          error_description: 'this Origin is not allowed to call /mcp (see MCP_ALLOWED_ORIGINS)',
        };
        return;
      }
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Expose-Headers', EXPOSED);
    }
    if (ctx.method === 'OPTIONS') {
      ctx.set('Access-Control-Allow-Methods', 'POST, GET, DELETE, OPTIONS');
      ctx.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return;
    }
    await next();
  };
}
