// MCP Streamable HTTP spoken by hand (fetch), for tests that must see what an SDK client hides: the HTTP status
// and challenge of a refusal, the Mcp-Session-Id, each SSE event as it arrives, a request id of our choosing,
// notifications/cancelled naming any id. Every request is bounded by a timeout.
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export const PROTOCOL_VERSION = '2025-11-25';
const DEFAULT_TIMEOUT_MS = 30_000;

export interface RpcAnswer {
  status: number;
  headers: Headers;
  /** Whether the answer was an SSE stream (text/event-stream). */
  streamed: boolean;
  /** Every JSON-RPC message of the answer: the JSON body, or each SSE event's data in order. */
  messages: JSONRPCMessage[];
  /** The body as text, when it was not JSON-RPC (a plain JSON error, an empty 202). */
  text: string;
}

export interface PostOptions {
  token: string;
  sessionId?: string;
  /** Called with each message as it arrives (SSE events one by one). */
  onMessage?: (message: JSONRPCMessage) => void;
  timeoutMs?: number;
  /** Ends the request early (the caller going away); the timeout still applies. */
  signal?: AbortSignal;
}

/** One POST; reads an SSE answer event by event until the server ends it. */
export async function postMcp(url: string, body: unknown, options: PostOptions): Promise<RpcAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${options.token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': PROTOCOL_VERSION,
      ...(options.sessionId ? { 'mcp-session-id': options.sessionId } : {}),
    },
    body: JSON.stringify(body),
    signal: AbortSignal.any([
      AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      ...(options.signal ? [options.signal] : []),
    ]),
  });
  const streamed = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
  const messages: JSONRPCMessage[] = [];
  let text = '';
  if (streamed && response.body) {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        if (!data) continue;
        const message = JSON.parse(data) as JSONRPCMessage;
        messages.push(message);
        options.onMessage?.(message);
      }
    }
  } else {
    text = await response.text();
    if (text) {
      try {
        const parsed = JSON.parse(text) as { jsonrpc?: unknown };
        if (parsed.jsonrpc === '2.0') {
          messages.push(parsed as JSONRPCMessage);
          options.onMessage?.(parsed as JSONRPCMessage);
        }
      } catch {
        // not JSON: kept in `text`
      }
    }
  }
  return { status: response.status, headers: response.headers, streamed, messages, text };
}

/** The answer's response to request `id`: its result or its error. */
export function responseTo(
  answer: RpcAnswer,
  id: string | number,
): { result?: Record<string, unknown>; error?: { code: number; message: string } } | undefined {
  return answer.messages.find((m) => 'id' in m && m.id === id && ('result' in m || 'error' in m)) as
    { result?: Record<string, unknown>; error?: { code: number; message: string } } | undefined;
}

/** A caller's session at one MCP endpoint: initialize (Mcp-Session-Id), then requests with ids it picks. */
export class McpSession {
  private nextId = 1;

  private constructor(
    readonly url: string,
    public token: string,
    readonly sessionId: string,
    readonly initializeResult: Record<string, unknown>,
  ) {}

  static async open(url: string, token: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<McpSession> {
    const answer = await postMcp(
      url,
      {
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: PROTOCOL_VERSION,
          capabilities: {},
          clientInfo: { name: 'gateway-integration-test', version: '0.1.0' },
        },
      },
      { token, timeoutMs },
    );
    const sessionId = answer.headers.get('mcp-session-id');
    const result = responseTo(answer, 0)?.result;
    if (answer.status !== 200 || !sessionId || !result) {
      throw new Error(
        `initialize at ${url} answered ${answer.status}: ${answer.text || JSON.stringify(answer.messages)}`,
      );
    }
    const session = new McpSession(url, token, sessionId, result);
    const initialized = await session.notify('notifications/initialized');
    if (initialized.status !== 202)
      throw new Error(`notifications/initialized answered ${initialized.status}`);
    return session;
  }

  /** A fresh request id (tests that need a particular one pass it). */
  id(): number {
    return this.nextId++;
  }

  request(
    method: string,
    params?: Record<string, unknown>,
    options: {
      id?: string | number;
      onMessage?: PostOptions['onMessage'];
      timeoutMs?: number;
      token?: string;
    } = {},
  ): Promise<RpcAnswer> {
    const id = options.id ?? this.id();
    return postMcp(
      this.url,
      { jsonrpc: '2.0', id, method, ...(params ? { params } : {}) },
      {
        token: options.token ?? this.token,
        sessionId: this.sessionId,
        ...(options.onMessage ? { onMessage: options.onMessage } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      },
    );
  }

  notify(method: string, params?: Record<string, unknown>): Promise<RpcAnswer> {
    return postMcp(
      this.url,
      { jsonrpc: '2.0', method, ...(params ? { params } : {}) },
      { token: this.token, sessionId: this.sessionId },
    );
  }

  /** tools/call; returns the whole answer and the response (result or error) to this request. */
  async callTool(
    name: string,
    args: Record<string, unknown> = {},
    options: {
      id?: string | number;
      progressToken?: string | number;
      onMessage?: PostOptions['onMessage'];
      timeoutMs?: number;
    } = {},
  ): Promise<{
    answer: RpcAnswer;
    result?: Record<string, unknown>;
    error?: { code: number; message: string };
  }> {
    const id = options.id ?? this.id();
    const answer = await this.request(
      'tools/call',
      {
        name,
        arguments: args,
        ...(options.progressToken === undefined ? {} : { _meta: { progressToken: options.progressToken } }),
      },
      {
        id,
        ...(options.onMessage ? { onMessage: options.onMessage } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      },
    );
    return { answer, ...responseTo(answer, id) };
  }

  async toolNames(): Promise<string[]> {
    const id = this.id();
    const answer = await this.request('tools/list', {}, { id });
    const result = responseTo(answer, id)?.result as { tools?: { name: string }[] } | undefined;
    if (answer.status !== 200 || !result?.tools) {
      throw new Error(
        `tools/list answered ${answer.status}: ${answer.text || JSON.stringify(answer.messages)}`,
      );
    }
    return result.tools.map((tool) => tool.name);
  }
}

/** The text of a tool result's first text block. */
export function resultText(result: Record<string, unknown> | undefined): string {
  const content = (result?.content ?? []) as { type: string; text?: string }[];
  return content.find((c) => c.type === 'text')?.text ?? '';
}
