// The MCP TypeScript SDK's own client and Streamable HTTP transport, carrying a bearer token.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export async function connectWithToken(mcpUrl: string, accessToken: string): Promise<Client> {
  const client = new Client({ name: 'mcp-keycloak-stack-e2e', version: '0.1.0' });
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    requestInit: { headers: { Authorization: `Bearer ${accessToken}` } },
  });
  await client.connect(transport);
  return client;
}

/** A tool result's JSON: structuredContent when the server sends it, else the first text block. */
export function toolJson(result: unknown): Record<string, unknown> {
  const r = result as {
    structuredContent?: Record<string, unknown>;
    content?: { type: string; text?: string }[];
  };
  if (r.structuredContent) return r.structuredContent;
  const text = r.content?.find((c) => c.type === 'text')?.text;
  if (!text) throw new Error(`tool result has no content: ${JSON.stringify(result)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** One plain `tools/call usage` POST with a bearer token: no session, no SDK, the answer as it comes. */
export function postUsage(mcpUrl: string, token: string, timeoutMs = 15_000): Promise<Response> {
  return fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'usage', arguments: {} },
    }),
    signal: AbortSignal.timeout(timeoutMs),
  });
}

/**
 * The caller's count after one `usage` call (postUsage): the call itself is counted before it runs. Fails the test on
 * anything but a 200 with a tool result that is not an error.
 */
export async function usageCount(mcpUrl: string, token: string): Promise<number> {
  const response = await postUsage(mcpUrl, token);
  if (response.status !== 200) throw new Error(`the MCP server refused the token: HTTP ${response.status}`);
  const body = (await response.json()) as { result: { isError?: boolean; content: { text: string }[] } };
  if (body.result.isError) throw new Error(`usage failed: ${body.result.content[0]?.text}`);
  return (JSON.parse(body.result.content[0]?.text ?? '') as { count: number }).count;
}
