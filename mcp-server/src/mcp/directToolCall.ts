// Step 6, fast lane: runs a plain `tools/call` of one of our own tools straight on the tool the McpServer
// registered, with the same checks and answers as the SDK's own tools/call path (SDK 1.32: McpServer's
// CallTool handler inside Server's tools/call wrapper).
//
// Why: that path costs more than everything else in a request together. Measured side by side (noauth, same
// run): with the SDK dispatch the server did 0.28 × the plain-Koa ceiling, with it replaced by a fixed answer
// 0.45 ×. Most of it is per-message machinery our tools never use: three zod type probes of the JSON-RPC
// message, the request schema parsed twice, an AbortController and a dozen closures for `extra`, and a chain
// of promise hops. What our tools do need is kept, in the SDK's order and with its messages: the tool exists
// and is enabled, arguments against its input schema, the handler, structured content against its output
// schema, the result against CallToolResultSchema.
//
// Anything else — task-augmented calls, calls carrying `_meta` (progress tokens), tools of no family here —
// returns undefined and goes through the SDK unchanged. Handlers get `{ authInfo }` only (the ToolFamily
// handler type promises no more), so a tool that wanted cancellation or progress would need the SDK path.
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  getParseErrorMessage,
  normalizeObjectSchema,
  safeParse,
} from '@modelcontextprotocol/sdk/server/zod-compat.js';
import {
  CallToolResultSchema,
  ErrorCode,
  McpError,
  type CallToolResult,
  type JSONRPCRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { JsonRpcAnswer } from './multiplexTransport.ts';

type Handler = (...args: unknown[]) => CallToolResult | Promise<CallToolResult>;

export interface DirectToolCall {
  /** The call's answer, or undefined when this request must go through the SDK. */
  (request: JSONRPCRequest, authInfo: AuthInfo): Promise<JsonRpcAnswer> | undefined;
}

export function directToolCall(tools: ReadonlyMap<string, RegisteredTool>): DirectToolCall {
  return (request, authInfo) => {
    if (request.method !== 'tools/call') return undefined;
    const params = request.params as { name?: unknown; task?: unknown; _meta?: unknown } | undefined;
    if (!params || params.task !== undefined || params._meta !== undefined) return undefined;
    const tool = typeof params.name === 'string' ? tools.get(params.name) : undefined;
    if (!tool) return undefined;
    return run(tool, params.name as string, request, authInfo);
  };
}

async function run(
  tool: RegisteredTool,
  name: string,
  request: JSONRPCRequest,
  authInfo: AuthInfo,
): Promise<JsonRpcAnswer> {
  let result: CallToolResult;
  try {
    result = await callTool(tool, name, (request.params as { arguments?: unknown }).arguments, {
      authInfo,
    });
  } catch (error) {
    // Only what the SDK lets out of a tool (URL elicitation), answered as its Protocol answers a throw.
    const { code, message, data } = error as McpError;
    return errorAnswer(request.id, { code, message, ...(data !== undefined ? { data } : {}) });
  }
  // Outside the tool's try, as in the SDK's Server wrapper: a malformed result is a JSON-RPC error.
  const checked = safeParse(CallToolResultSchema, result);
  if (!checked.success) {
    const error = new McpError(
      ErrorCode.InvalidParams,
      `Invalid tools/call result: ${String(checked.error instanceof Error ? checked.error.message : checked.error)}`,
    );
    return errorAnswer(request.id, { code: error.code, message: error.message });
  }
  return { jsonrpc: '2.0', id: request.id, result: checked.data };
}

function errorAnswer(
  id: JSONRPCRequest['id'],
  error: { code: number; message: string; data?: unknown },
): JsonRpcAnswer {
  return { jsonrpc: '2.0', id, error } as JsonRpcAnswer;
}

async function callTool(
  tool: RegisteredTool,
  name: string,
  args: unknown,
  extra: { authInfo: AuthInfo },
): Promise<CallToolResult> {
  try {
    if (!tool.enabled) throw new McpError(ErrorCode.InvalidParams, `Tool ${name} disabled`);
    const handler = tool.handler as Handler;
    let result: CallToolResult;
    if (tool.inputSchema) {
      const schema = normalizeObjectSchema(tool.inputSchema) ?? tool.inputSchema;
      const parsed = safeParse(schema, args ?? {});
      if (!parsed.success) {
        throw new McpError(
          ErrorCode.InvalidParams,
          `Input validation error: Invalid arguments for tool ${name}: ${getParseErrorMessage(parsed.error)}`,
        );
      }
      result = await handler(parsed.data, extra);
    } else {
      result = await handler(extra);
    }
    checkOutput(tool, name, result);
    return result;
  } catch (error) {
    if (error instanceof McpError && error.code === ErrorCode.UrlElicitationRequired) throw error;
    // As the SDK does: every other failure inside the tool becomes an isError result the model can read.
    return {
      content: [{ type: 'text', text: error instanceof Error ? error.message : String(error) }],
      isError: true,
    };
  }
}

function checkOutput(tool: RegisteredTool, name: string, result: CallToolResult): void {
  if (!tool.outputSchema || !('content' in result) || result.isError) return;
  if (!result.structuredContent) {
    throw new McpError(
      ErrorCode.InvalidParams,
      `Output validation error: Tool ${name} has an output schema but no structured content was provided`,
    );
  }
  const parsed = safeParse(normalizeObjectSchema(tool.outputSchema)!, result.structuredContent);
  if (!parsed.success) {
    throw new McpError(
      ErrorCode.InvalidParams,
      `Output validation error: Invalid structured content for tool ${name}: ${getParseErrorMessage(parsed.error)}`,
    );
  }
}
