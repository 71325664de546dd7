// Koa middleware: turns thrown errors into JSON. Client mistakes (errors Koa marks `expose`, 4xx) keep their
// status and message; anything else is a bug: logged with its stack, answered as a bare 500.
import type { Middleware } from 'koa';
import type { AppState } from './appState.ts';

interface HttpishError {
  status?: number;
  expose?: boolean;
  message?: string;
}

const CLIENT_ERRORS: Record<number, string> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

export function errorHandler(): Middleware<AppState> {
  return async function errorHandler(ctx, next) {
    try {
      await next();
    } catch (error) {
      const e = (error ?? {}) as HttpishError;
      const status = typeof e.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 500;
      if (status === 500) ctx.state.log.error({ err: error }, 'unhandled error');
      // The MCP route writes its own response; once bytes are out, all we can do is log.
      if (ctx.res.headersSent || !ctx.writable) return;
      ctx.respond = true; // a route that took over the response (ctx.respond = false) failed before writing
      ctx.status = status;
      ctx.body =
        status === 500
          ? { error: 'internal_error', error_description: 'internal server error' }
          : {
              error: CLIENT_ERRORS[status] ?? 'client_error',
              error_description:
                e.expose && e.message ? e.message : (CLIENT_ERRORS[status] ?? 'client error'),
            };
    }
  };
}
