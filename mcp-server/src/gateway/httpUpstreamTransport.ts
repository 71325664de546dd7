// The MCP client side of Streamable HTTP for the gateway's upstreams, on node:http / node:https with a
// keep-alive agent per upstream (bounded sockets) instead of the SDK's fetch-based transport: the upstream call
// is the gateway's hot path, and undici's request objects, web streams and header lists cost about a third of
// its busy time (README, "The gateway path"). Same wire behaviour as the SDK's StreamableHTTPClientTransport
// for what the gateway uses: POST per message (JSON or SSE answers), Mcp-Session-Id and MCP-Protocol-Version,
// the standalone GET SSE stream after notifications/initialized (405 = none), DELETE to end the session.
// No redirects, no resumption, no OAuth (upstream credentials are static headers or the exchanged token).
// Errors name a status or an error code, never the URL (it may carry userinfo) nor any header.
import http from 'node:http';
import https from 'node:https';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';

/** Sockets per upstream (all sessions of it share the agent); more concurrent requests wait for one. */
export const MAX_SOCKETS_PER_UPSTREAM = 128;

/** An upstream's answer that is not a usable MCP answer; `code` is the HTTP status (-1: wrong content type). */
export class UpstreamHttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`Streamable HTTP error: ${message}`);
    this.name = 'UpstreamHttpError';
  }
}

export interface HttpUpstreamTransportOptions {
  /** The upstream's static headers (upstreams file). */
  headers?: Record<string, string>;
  /** Read at each request: a header for this session (token exchange), or undefined. */
  credential?: () => { header: string; value: string } | undefined;
  /**
   * A POST whose socket is silent this long is dropped (a hung upstream must not hold a socket forever; the
   * SDK Protocol's own timeout answers the caller before this). 0 = never.
   */
  idleTimeoutMs?: number;
  /** Shared keep-alive agent (agentFor); one of its own when absent. */
  agent?: http.Agent;
}

const agents = new Map<string, http.Agent>();

/** One keep-alive agent per upstream (by name and origin), so all its sessions share bounded sockets. */
export function agentFor(name: string, url: URL): http.Agent {
  const key = `${name}\n${url.origin}`;
  let agent = agents.get(key);
  if (!agent) {
    const options: http.AgentOptions = {
      keepAlive: true,
      maxSockets: MAX_SOCKETS_PER_UPSTREAM,
      // Idle sockets are closed before a typical server's 5 s keep-alive would close them under a request.
      timeout: 4_000,
      scheduling: 'lifo',
    };
    agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    agents.set(key, agent);
  }
  return agent;
}

type Answer = http.IncomingMessage;

export class HttpUpstreamTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  sessionId?: string;

  private protocolVersion: string | undefined;
  private closed = false;
  private readonly requests = new Set<http.ClientRequest>();
  private readonly client: typeof http | typeof https;
  private readonly agent: http.Agent;
  private readonly staticHeaders: Record<string, string>;
  private readonly auth: string | undefined;

  constructor(
    private readonly url: URL,
    private readonly options: HttpUpstreamTransportOptions = {},
  ) {
    this.client = url.protocol === 'https:' ? https : http;
    this.agent =
      options.agent ??
      new (url.protocol === 'https:' ? https.Agent : http.Agent)({
        keepAlive: true,
        maxSockets: MAX_SOCKETS_PER_UPSTREAM,
      });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
    this.staticHeaders = headers;
    this.auth =
      url.username || url.password
        ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
        : undefined;
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error('transport closed');
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  async send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    try {
      await this.post(message);
    } catch (error) {
      this.onerror?.(error as Error);
      throw error;
    }
  }

  /** DELETE the upstream session (MCP spec §Session Management); 405 = the upstream does not allow it. */
  async terminateSession(): Promise<void> {
    if (!this.sessionId) return;
    const answer = await this.exchange('DELETE', this.headers(), undefined, this.agent, 0);
    answer.resume();
    if ((answer.statusCode ?? 0) >= 300 && answer.statusCode !== 405) {
      throw new UpstreamHttpError(
        answer.statusCode ?? 0,
        `Failed to terminate session: ${statusText(answer)}`,
      );
    }
    this.sessionId = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const request of this.requests) request.destroy(new Error('transport closed'));
    this.requests.clear();
    this.onclose?.();
  }

  private async post(message: JSONRPCMessage): Promise<void> {
    const body = JSON.stringify(message);
    const headers = this.headers();
    headers['content-type'] = 'application/json';
    headers.accept = 'application/json, text/event-stream';
    headers['content-length'] = String(Buffer.byteLength(body));
    const answer = await this.exchange('POST', headers, body, this.agent, this.options.idleTimeoutMs ?? 0);
    const sessionId = answer.headers['mcp-session-id'];
    if (typeof sessionId === 'string' && sessionId) this.sessionId = sessionId;
    const status = answer.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      answer.resume();
      throw new UpstreamHttpError(status, `Error POSTing to endpoint: ${status} ${statusText(answer)}`);
    }
    if (status === 202) {
      answer.resume();
      if ('method' in message && message.method === 'notifications/initialized' && !('id' in message))
        this.openStream();
      return;
    }
    if (!('method' in message) || !('id' in message)) {
      // An answer to a notification or a response of ours: nothing in it is for us.
      answer.resume();
      return;
    }
    const type = mediaType(answer.headers['content-type']);
    if (type === 'text/event-stream') {
      this.readEvents(answer, message.id);
    } else if (type === 'application/json') {
      const text = await readText(answer);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new UpstreamHttpError(-1, 'The answer is not JSON');
      }
      for (const one of Array.isArray(parsed) ? parsed : [parsed]) this.deliver(one);
    } else {
      answer.resume();
      throw new UpstreamHttpError(-1, `Unexpected content type: ${String(type).slice(0, 100)}`);
    }
  }

  /** The standalone GET stream: the upstream's messages outside any call (logging, list_changed). */
  private openStream(): void {
    const headers = this.headers();
    headers.accept = 'text/event-stream';
    // Not on the pooled agent: the stream holds its socket for the whole session.
    this.exchange('GET', headers, undefined, false, 0).then(
      (answer) => {
        const status = answer.statusCode ?? 0;
        if (status === 405) return void answer.resume();
        if (
          status < 200 ||
          status >= 300 ||
          mediaType(answer.headers['content-type']) !== 'text/event-stream'
        ) {
          answer.resume();
          this.onerror?.(new UpstreamHttpError(status, `Failed to open SSE stream: ${statusText(answer)}`));
          return;
        }
        this.readEvents(answer, undefined);
      },
      (error: Error) => {
        if (!this.closed) this.onerror?.(error);
      },
    );
  }

  /**
   * Reads an SSE body incrementally: each event's `data` (lines joined with \n) is one JSON-RPC message. When
   * the stream of a request breaks before its answer (the upstream died), the request gets an error answer at
   * once instead of waiting for its timeout.
   */
  private readEvents(answer: Answer, requestId: string | number | undefined): void {
    answer.setEncoding('utf8');
    let buffer = '';
    let data: string[] = [];
    let event = '';
    let answered = false;
    const dispatch = () => {
      if (data.length > 0 && (event === '' || event === 'message')) {
        const text = data.join('\n');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          this.onerror?.(new Error('An SSE event is not JSON'));
          parsed = undefined;
        }
        if (parsed !== undefined) {
          const id = (parsed as { id?: unknown }).id;
          if (requestId !== undefined && id === requestId && !('method' in (parsed as object)))
            answered = true;
          this.deliver(parsed);
        }
      }
      data = [];
      event = '';
    };
    const line = (text: string) => {
      if (text === '') return dispatch();
      if (text.charCodeAt(0) === 58 /* : comment */) return;
      const colon = text.indexOf(':');
      const field = colon === -1 ? text : text.slice(0, colon);
      let value = colon === -1 ? '' : text.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
      // id, retry: no resumption here.
    };
    answer.on('data', (chunk: string) => {
      buffer += chunk;
      let start = 0;
      for (;;) {
        let end = -1;
        let next = -1;
        for (let i = start; i < buffer.length; i++) {
          const c = buffer.charCodeAt(i);
          if (c === 10) {
            end = i;
            next = i + 1;
            break;
          }
          if (c === 13) {
            // \r\n or a lone \r; a \r at the very end may still get its \n.
            if (i + 1 === buffer.length) break;
            end = i;
            next = buffer.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
            break;
          }
        }
        if (end === -1) break;
        line(buffer.slice(start, end));
        start = next;
      }
      buffer = start === 0 ? buffer : buffer.slice(start);
    });
    const broken = (error?: Error) => {
      if (this.closed) return;
      this.onerror?.(new Error(`SSE stream disconnected${error ? `: ${describeNetworkError(error)}` : ''}`));
      if (requestId !== undefined && !answered) {
        answered = true;
        this.deliver({
          jsonrpc: '2.0',
          id: requestId,
          error: { code: -32000, message: 'Connection closed' },
        });
      }
    };
    answer.on('error', broken);
    answer.on('aborted', () => broken());
    answer.on('end', () => {
      if (buffer) line(buffer);
      buffer = '';
      if (!answer.complete) broken();
    });
  }

  /**
   * Hands a message to the SDK in the order it came. The SDK handles a notification a microtask later but a
   * response at once: a response right behind progress in the same chunk would end the request before its
   * progress is heard, so what follows a notification waits for the next turn of the event loop.
   */
  private deliver(message: unknown): void {
    if (this.held) {
      this.held.push(message);
      return;
    }
    this.dispatch(message);
    if (isNotification(message)) this.hold();
  }

  private held: unknown[] | undefined;

  private hold(): void {
    this.held = [];
    setImmediate(() => {
      const held = this.held ?? [];
      this.held = undefined;
      for (let i = 0; i < held.length; i++) {
        const message = held[i];
        this.dispatch(message);
        if (isNotification(message) && i + 1 < held.length) {
          this.hold();
          (this.held as unknown as unknown[]).push(...held.slice(i + 1));
          return;
        }
      }
    });
  }

  private dispatch(message: unknown): void {
    if (this.closed) return;
    try {
      this.onmessage?.(message as JSONRPCMessage);
    } catch (error) {
      this.onerror?.(error as Error);
    }
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { ...this.staticHeaders };
    if (this.sessionId) headers['mcp-session-id'] = this.sessionId;
    if (this.protocolVersion) headers['mcp-protocol-version'] = this.protocolVersion;
    const credential = this.options.credential?.();
    if (credential) headers[credential.header.toLowerCase()] = credential.value;
    return headers;
  }

  /** One HTTP exchange up to the answer's head; the body is the caller's to read or discard. */
  private exchange(
    method: string,
    headers: Record<string, string>,
    body: string | undefined,
    agent: http.Agent | false,
    idleTimeoutMs: number,
  ): Promise<Answer> {
    if (this.closed) return Promise.reject(new Error('transport closed'));
    return new Promise<Answer>((resolve, reject) => {
      const url = this.url;
      const request = this.client.request({
        protocol: url.protocol,
        hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method,
        headers,
        agent,
        ...(this.auth ? { auth: this.auth } : {}),
      });
      this.requests.add(request);
      let settled = false;
      request.on('response', (answer) => {
        settled = true;
        answer.once('close', () => this.requests.delete(request));
        resolve(answer);
      });
      request.on('error', (error) => {
        this.requests.delete(request);
        if (!settled) {
          settled = true;
          reject(new Error(`${method} to the upstream failed: ${describeNetworkError(error)}`));
        }
      });
      request.on('close', () => {
        if (!settled) {
          settled = true;
          this.requests.delete(request);
          reject(new Error(`${method} to the upstream failed: connection closed`));
        }
      });
      if (idleTimeoutMs > 0)
        request.setTimeout(idleTimeoutMs, () => request.destroy(new Error('idle timeout')));
      request.end(body);
    });
  }
}

function isNotification(message: unknown): boolean {
  return typeof message === 'object' && message !== null && 'method' in message && !('id' in message);
}

function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase();
}

function statusText(answer: Answer): string {
  return (answer.statusMessage ?? '').slice(0, 100);
}

/** A network error by its code (ECONNREFUSED, …), never its message: that names addresses. */
function describeNetworkError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code) return code;
  return error.message === 'transport closed' || error.message === 'idle timeout' ? error.message : 'error';
}

function readText(answer: Answer): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    answer.on('data', (chunk: Buffer) => chunks.push(chunk));
    answer.on('end', () =>
      answer.complete
        ? resolve(
            chunks.length === 1
              ? (chunks[0] as Buffer).toString('utf8')
              : Buffer.concat(chunks).toString('utf8'),
          )
        : reject(new Error('The answer was cut off')),
    );
    answer.on('error', (error) =>
      reject(new Error(`The answer was cut off: ${describeNetworkError(error)}`)),
    );
  });
}
