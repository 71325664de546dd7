// Koa middleware: gives each request an id and a child logger, and writes one access log line when the
// response is done. Logs client address, method, path (no query string), status, duration and auth outcome;
// never headers, so the Authorization header (and cookies) cannot leak into logs.
import { randomBytes } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { AppState } from './appState.ts';

// Accept a caller's id (from a proxy) only if it looks like an id, so it cannot inject into logs.
const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

// Our own ids: a random tag per process plus a counter. Unique across replicas and restarts (48 random bits),
// and cheaper than a UUID per request; a request id is a label, not a secret.
const PROCESS_TAG = randomBytes(6).toString('hex');
let counter = 0;
const nextRequestId = () => `${PROCESS_TAG}-${(++counter).toString(36)}`;

/**
 * ctx.state of every request. The child logger is made on first use, by a getter on the prototype: most
 * requests log only the access line, and a pino child (or a closure) per request is measurable garbage.
 */
class RequestState implements Pick<AppState, 'requestId' | 'log'> {
  private child: Logger | undefined;
  constructor(
    readonly requestId: string,
    private readonly logger: Logger,
  ) {}
  get log(): Logger {
    return (this.child ??= this.logger.child({ reqId: this.requestId }));
  }
}

export function accessLog(options: { logger: Logger }): Middleware<AppState> {
  // The access line is made here from a fixed set of fields, none of them secret, so it skips the logger's
  // redaction pass (a second line of defence for free-form logs): ≈ 6 µs of 8 per line, measured with pino 10.
  const lineLogger = options.logger.child({}, { redact: { paths: [] } });
  return async function accessLog(ctx, next) {
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : nextRequestId();
    ctx.state = new RequestState(requestId, options.logger) as unknown as AppState;
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();

    // On 'close', not after `await next()`: the MCP route writes the response itself (ctx.respond = false),
    // and its status is only final once Node has sent it.
    ctx.res.once('close', () => {
      const { auth, authFailure } = ctx.state;
      lineLogger.info(
        {
          reqId: requestId,
          // The peer's address, or X-Forwarded-For's client when MCP_TRUST_PROXY says a proxy of ours sets it.
          ip: ctx.ip,
          method: ctx.method,
          path: ctx.path,
          // Koa's default 404 until a status is sent; a request abandoned before that has none.
          status: ctx.res.headersSent ? ctx.res.statusCode : null,
          ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
          ...(auth ? { sub: auth.subject, client: auth.clientId } : {}),
          ...(authFailure ? { authFailure } : {}),
          ...(ctx.res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    });
    await next();
  };
}
