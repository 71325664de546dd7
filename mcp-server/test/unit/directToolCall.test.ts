// The direct lane for tools/call must answer exactly as the SDK's own path does: each case runs the same
// request both ways on the same McpServer (through MultiplexTransport, and through directToolCall) and
// compares the JSON-RPC answers whole.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { McpServer, type RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { VerifiedToken } from '../../src/auth/verifiedToken.ts';
import { authInfoFor } from '../../src/mcp/caller.ts';
import { createMcpServer } from '../../src/mcp/createMcpServer.ts';
import { directToolCall } from '../../src/mcp/directToolCall.ts';
import { MultiplexTransport } from '../../src/mcp/multiplexTransport.ts';
import { MemoryStore, memoryLogger } from './support/fakes.ts';

const admin: VerifiedToken = {
  subject: 'admin-1',
  username: 'root',
  clientId: 'c',
  scopes: ['mcp:tools', 'mcp:admin'],
  roles: ['mcp-admin'],
  audiences: ['http://localhost:3000/mcp'],
  expiresAt: Math.floor(Date.now() / 1000) + 60,
  claims: {},
};

/** Test tools on a bare McpServer, for the failure shapes our own tools never produce. */
function oddTools(server: McpServer): Map<string, RegisteredTool> {
  const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });
  const tools = new Map<string, RegisteredTool>();
  tools.set(
    'throws',
    server.registerTool('throws', {}, () => {
      throw new Error('the tool broke');
    }),
  );
  tools.set(
    'no_structured',
    server.registerTool('no_structured', { outputSchema: { n: z.number() } }, () => text('x')),
  );
  tools.set(
    'wrong_structured',
    server.registerTool('wrong_structured', { outputSchema: { n: z.number() } }, () => ({
      ...text('x'),
      structuredContent: { n: 'one' },
    })),
  );
  tools.set(
    'bad_envelope',
    server.registerTool(
      'bad_envelope',
      {},
      () => ({ content: [{ type: 'nonsense' }] }) as unknown as CallToolResult,
    ),
  );
  const disabled = server.registerTool('disabled', {}, () => text('never'));
  disabled.disable();
  tools.set('disabled', disabled);
  return tools;
}

async function bothWays(
  server: McpServer,
  tools: ReadonlyMap<string, RegisteredTool>,
  params: Record<string, unknown>,
) {
  const transport = new MultiplexTransport();
  await server.connect(transport);
  const request: JSONRPCRequest = { jsonrpc: '2.0', id: 7, method: 'tools/call', params };
  const authInfo = authInfoFor(admin, 3);
  const viaSdk = await transport.request(request, authInfo).answer;
  const direct = directToolCall(tools)(request, authInfo);
  assert.ok(direct, 'the direct lane takes this call');
  const viaDirect = await direct;
  await server.close();
  return { viaSdk, viaDirect };
}

describe('directToolCall answers as the SDK does', () => {
  const store = new MemoryStore();
  const ours = () =>
    createMcpServer({ store, logger: memoryLogger().logger, jsonSchemaValidator: undefined as never });

  const cases: Array<[string, Record<string, unknown>]> = [
    ['usage', { name: 'usage' }],
    ['usage with empty arguments', { name: 'usage', arguments: {} }],
    ['whoami', { name: 'whoami', arguments: {} }],
    ['reset_usage', { name: 'reset_usage', arguments: { subject: 'someone' } }],
    ['reset_usage, missing argument', { name: 'reset_usage', arguments: {} }],
    ['reset_usage, wrong type', { name: 'reset_usage', arguments: { subject: 42 } }],
    ['reset_usage, too long', { name: 'reset_usage', arguments: { subject: 'x'.repeat(300) } }],
  ];
  for (const [name, params] of cases) {
    it(name, async () => {
      const { server, tools } = ours();
      const { viaSdk, viaDirect } = await bothWays(server, tools, params);
      assert.deepEqual(viaDirect, viaSdk);
    });
  }

  for (const name of ['throws', 'no_structured', 'wrong_structured', 'bad_envelope', 'disabled']) {
    it(`a tool that is ${name.replace('_', ' ')}`, async () => {
      const server = new McpServer({ name: 't', version: '1' });
      const { viaSdk, viaDirect } = await bothWays(server, oddTools(server), { name });
      assert.deepEqual(viaDirect, viaSdk);
      // Each case is a failure: an isError result, or a JSON-RPC error for the malformed envelope.
      const failed =
        viaDirect.error !== undefined || (viaDirect.result as { isError?: boolean }).isError === true;
      assert.ok(failed, JSON.stringify(viaDirect));
    });
  }
});

describe('directToolCall leaves to the SDK', () => {
  const { tools } = createMcpServer({
    store: new MemoryStore(),
    logger: memoryLogger().logger,
    jsonSchemaValidator: undefined as never,
  });
  const direct = directToolCall(tools);
  const authInfo = authInfoFor(admin, 1);
  const call = (method: string, params?: Record<string, unknown>) =>
    direct({ jsonrpc: '2.0', id: 1, method, ...(params ? { params } : {}) }, authInfo);

  it('task-augmented calls, calls with _meta (progress), unknown tools and other methods', () => {
    assert.equal(call('tools/call', { name: 'usage', task: { ttl: 1000 } }), undefined);
    assert.equal(call('tools/call', { name: 'usage', _meta: { progressToken: 1 } }), undefined);
    assert.equal(call('tools/call', { name: 'nope' }), undefined);
    assert.equal(call('tools/list'), undefined);
  });
  it('takes a plain call of a declared tool', () => {
    assert.ok(call('tools/call', { name: 'whoami' }));
  });
});
