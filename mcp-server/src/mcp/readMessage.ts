// Step 2 of POST /mcp: the body (size limit, JSON) and what it is as JSON-RPC. Result: the classified
// message, or a Refusal (415, 413 with the connection closed, 400 -32700, 400 -32600).
import type { IncomingMessage } from 'node:http';
import { readJsonBody, RequestBodyError } from '../http/readJsonBody.ts';
import { classifyJsonRpc, type IncomingJsonRpc } from './jsonRpc.ts';
import { INVALID_REQUEST, PARSE_ERROR, Refusal, SERVER_ERROR } from './refusal.ts';

export type McpMessage = Exclude<IncomingJsonRpc, { kind: 'invalid' }>;

// The rest of an oversized body is never read: close the connection once the 413 is out.
const CLOSE = { Connection: 'close' } as const;

export async function readMessage(req: IncomingMessage, limitBytes: number): Promise<McpMessage | Refusal> {
  let body: unknown;
  try {
    body = await readJsonBody(req, limitBytes);
  } catch (error) {
    if (!(error instanceof RequestBodyError)) throw error;
    if (error.status === 413)
      return new Refusal('body_too_large', 413, SERVER_ERROR, error.message, null, CLOSE);
    if (error.status === 415) return new Refusal('unsupported_media_type', 415, SERVER_ERROR, error.message);
    return new Refusal('parse_error', 400, PARSE_ERROR, error.message);
  }
  const incoming = classifyJsonRpc(body);
  if (incoming.kind === 'invalid') {
    return new Refusal('invalid_request', 400, INVALID_REQUEST, incoming.reason, incoming.id);
  }
  return incoming;
}
