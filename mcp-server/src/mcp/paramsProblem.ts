// The params shape of the two methods whose mistakes the SDK would answer as -32603 "internal error" with a
// raw zod dump: a client's mistake gets -32602 with one readable sentence instead.
import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { INVALID_PARAMS, Refusal } from './refusal.ts';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One sentence naming what is wrong, or undefined when the params are fine (or not ours to check). */
export function paramsProblem(request: JSONRPCRequest): string | undefined {
  const params: unknown = request.params;
  if (request.method === 'tools/call') {
    if (!isObject(params) || typeof params.name !== 'string')
      return 'tools/call needs params.name (a string)';
    if (params.arguments !== undefined && !isObject(params.arguments))
      return 'tools/call params.arguments must be an object';
  }
  if (request.method === 'initialize') {
    if (!isObject(params) || typeof params.protocolVersion !== 'string')
      return 'initialize needs params.protocolVersion (a string)';
    if (!isObject(params.capabilities)) return 'initialize needs params.capabilities (an object)';
    const info = params.clientInfo;
    if (!isObject(info) || typeof info.name !== 'string' || typeof info.version !== 'string')
      return 'initialize needs params.clientInfo with name and version (strings)';
  }
  return undefined;
}

/** Step 3b of POST /mcp: undefined, or the -32602 Refusal (answered after admission, like every refusal). */
export function paramsRefusal(request: JSONRPCRequest): Refusal | undefined {
  const problem = paramsProblem(request);
  return problem === undefined
    ? undefined
    : new Refusal('invalid_params', 200, INVALID_PARAMS, `Invalid params: ${problem}`, request.id);
}
