// A caller's initialize at an upstream path: the gateway opened (or reuses) the upstream session itself, so it
// answers with what the upstream declared — its capabilities, name and instructions — in the protocol version
// the caller asked for when the gateway speaks it.
import {
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  type JSONRPCMessage,
  type JSONRPCRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { SERVER_ERROR } from '../mcp/refusal.ts';
import type { UpstreamConnection } from './upstreamConnection.ts';

export async function initializeAnswer(
  connection: UpstreamConnection,
  request: JSONRPCRequest,
): Promise<JSONRPCMessage> {
  try {
    await connection.ready();
  } catch (error) {
    return {
      jsonrpc: '2.0',
      id: request.id,
      error: { code: SERVER_ERROR, message: (error as Error).message },
    };
  }
  const init = connection.init;
  if (!init) {
    return {
      jsonrpc: '2.0',
      id: request.id,
      error: { code: SERVER_ERROR, message: 'upstream session ended' },
    };
  }
  const asked = (request.params as { protocolVersion?: unknown } | undefined)?.protocolVersion;
  const protocolVersion =
    typeof asked === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(asked)
      ? asked
      : LATEST_PROTOCOL_VERSION;
  return { jsonrpc: '2.0', id: request.id, result: { protocolVersion, ...init } };
}
