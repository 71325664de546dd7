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
