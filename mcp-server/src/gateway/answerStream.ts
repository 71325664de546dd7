// How the gateway answers one forwarded request: plain JSON when the upstream's answer comes first, an SSE
// stream (MCP spec §Streamable HTTP: text/event-stream, notifications first, the response last) as soon as a
// notification for the caller arrives before it. Headers already set on the Koa context (Mcp-Session-Id,
// RateLimit, CORS) are written by Node with either.
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ParameterizedContext } from 'koa';

export interface AnswerStream {
  /** A notification before the response: switches to SSE on the first one. */
  notify(message: JSONRPCMessage): void;
  /** The response: the body of a JSON answer, or the stream's last event. */
  finish(message: JSONRPCMessage): void;
  readonly streaming: boolean;
}

export function answerStream(ctx: ParameterizedContext): AnswerStream {
  const res = ctx.res;
  let streaming = false;
  let done = false;

  const write = (message: JSONRPCMessage) => {
    if (!res.writableEnded && !res.destroyed)
      res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  };

  return {
    notify(message) {
      if (done) return;
      if (!streaming) {
        streaming = true;
        // Koa leaves the response to us from here on; status and headers go out now.
        ctx.respond = false;
        ctx.status = 200;
        res.writeHead(200, {
          'Content-Type': 'text/event-stream',
          'Cache-Control': 'no-cache, no-store',
          'X-Accel-Buffering': 'no', // nginx (the TLS overlay) would otherwise hold events back
        });
      }
      write(message);
    },
    finish(message) {
      if (done) return;
      done = true;
      if (!streaming) {
        ctx.status = 200;
        ctx.body = message;
        return;
      }
      write(message);
      res.end();
    },
    get streaming() {
      return streaming;
    },
  };
}
