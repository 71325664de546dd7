// A stand-in for the Anthropic Messages API (POST /v1/messages), so Claude Code can be made to call an MCP tool
// with no model and no network: Claude Code talks to it through ANTHROPIC_BASE_URL. Its one script: when a
// request offers the tool it is told to call and holds no tool result yet, it answers with a tool_use block for
// that tool; once a tool result comes back it records it and ends the turn with a short text. Any other request
// (a title, a summary) gets a short text. Streamed (SSE) or plain JSON, as the request asks.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ToolResultSeen {
  toolUseId: string;
  isError: boolean;
  /** The tool result's text blocks, joined. */
  text: string;
}

interface ContentBlock {
  type: string;
  text?: string;
  tool_use_id?: string;
  is_error?: boolean;
  content?: string | ContentBlock[];
}

interface MessagesRequest {
  model?: string;
  stream?: boolean;
  tools?: { name?: string }[];
  messages?: { role: string; content: string | ContentBlock[] }[];
}

export interface StandInModel {
  /** For ANTHROPIC_BASE_URL. */
  baseUrl: string;
  /** The tool names each /v1/messages request offered, in order. */
  offeredTools: string[][];
  /** Tool results Claude Code sent back. */
  toolResults: ToolResultSeen[];
  /** How many times it answered with the tool_use. */
  toolUses: number;
  close(): Promise<void>;
}

function textOf(content: string | ContentBlock[] | undefined): string {
  if (typeof content === 'string') return content;
  return (content ?? [])
    .filter((c) => c.type === 'text')
    .map((c) => c.text ?? '')
    .join('\n');
}

/** `tool`: the name Claude Code gives the MCP tool (mcp__<server>__<tool>); `input`: its arguments. */
export async function startStandInModel(tool: string, input: Record<string, unknown>): Promise<StandInModel> {
  const model: StandInModel = {
    baseUrl: '',
    offeredTools: [],
    toolResults: [],
    toolUses: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  function answer(res: ServerResponse, body: MessagesRequest): void {
    const offered = (body.tools ?? []).map((t) => String(t.name));
    model.offeredTools.push(offered);
    const results = (body.messages ?? [])
      .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
      .filter((c) => c.type === 'tool_result');
    for (const r of results) {
      if (model.toolResults.some((seen) => seen.toolUseId === r.tool_use_id)) continue;
      model.toolResults.push({
        toolUseId: String(r.tool_use_id),
        isError: r.is_error === true,
        text: textOf(r.content),
      });
    }
    const callTool = offered.includes(tool) && results.length === 0;
    if (callTool) model.toolUses += 1;
    const block = callTool
      ? { type: 'tool_use', id: `toolu_standin_${model.toolUses}`, name: tool, input }
      : { type: 'text', text: results.length ? 'The tool answered.' : 'ok' };
    const message = {
      id: `msg_standin_${model.offeredTools.length}`,
      type: 'message',
      role: 'assistant',
      model: body.model ?? 'stand-in',
      content: [block],
      stop_reason: callTool ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 1, output_tokens: 1 },
    };
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': message.id });
      res.end(JSON.stringify(message));
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'request-id': message.id,
    });
    const send = (event: string, data: unknown) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send('message_start', {
      type: 'message_start',
      message: { ...message, content: [], stop_reason: null },
    });
    if (block.type === 'tool_use') {
      send('content_block_start', {
        type: 'content_block_start',
        index: 0,
        content_block: { ...block, input: {} },
      });
      send('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(input) },
      });
    } else {
      send('content_block_start', {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'text', text: '' },
      });
      send('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: block.text },
      });
    }
    send('content_block_stop', { type: 'content_block_stop', index: 0 });
    send('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: message.stop_reason, stop_sequence: null },
      usage: { output_tokens: 1 },
    });
    send('message_stop', { type: 'message_stop' });
    res.end();
  }

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
      if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ input_tokens: 1 }));
        return;
      }
      if (req.method !== 'POST' || path !== '/v1/messages') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: path } }));
        return;
      }
      let body: MessagesRequest;
      try {
        body = JSON.parse(raw) as MessagesRequest;
      } catch {
        res.writeHead(400).end();
        return;
      }
      answer(res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  model.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return model;
}
