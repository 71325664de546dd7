// What a POST body is as JSON-RPC 2.0: a request, a notification, a response, or nothing valid. Shape only
// (the SDK validates params), cheap enough for every request.
import type { JSONRPCNotification, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';

export type IncomingJsonRpc =
  | { kind: 'request'; message: JSONRPCRequest }
  | { kind: 'notification'; message: JSONRPCNotification }
  | { kind: 'response' }
  | { kind: 'invalid'; reason: string; id: RequestId | null };

export function classifyJsonRpc(body: unknown): IncomingJsonRpc {
  if (Array.isArray(body)) {
    // JSON-RPC batching was removed in MCP 2025-06-18; this server speaks 2025-06-18 and later.
    return { kind: 'invalid', reason: 'Invalid Request: batches are not supported', id: null };
  }
  if (typeof body !== 'object' || body === null) {
    return { kind: 'invalid', reason: 'Invalid Request: not a JSON-RPC message', id: null };
  }
  const m = body as Record<string, unknown>;
  const id = typeof m.id === 'string' || typeof m.id === 'number' ? m.id : null;
  if (m.jsonrpc !== '2.0') return { kind: 'invalid', reason: 'Invalid Request: jsonrpc must be "2.0"', id };
  if ('method' in m) {
    if (typeof m.method !== 'string') return { kind: 'invalid', reason: 'Invalid Request: method', id };
    if (m.params !== undefined && (typeof m.params !== 'object' || m.params === null)) {
      return { kind: 'invalid', reason: 'Invalid Request: params must be an object', id };
    }
    if (!('id' in m)) return { kind: 'notification', message: m as unknown as JSONRPCNotification };
    if (id === null) return { kind: 'invalid', reason: 'Invalid Request: id', id: null };
    return { kind: 'request', message: m as unknown as JSONRPCRequest };
  }
  if (id !== null && ('result' in m || 'error' in m)) return { kind: 'response' };
  return { kind: 'invalid', reason: 'Invalid Request: not a request, notification or response', id };
}
