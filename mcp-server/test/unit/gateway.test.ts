// The gateway path end to end inside one process: the app on a loopback port, tokens signed by a local test
// issuer, and a real third-party MCP server (@modelcontextprotocol/server-everything, from npm) behind it over
// stdio. The real-Keycloak proof is in test/integration/gateway.integration.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createApp } from '../../src/app.ts';
import { createAccessTokenVerifier } from '../../src/auth/verifyAccessToken.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { resourceUrls } from '../../src/gateway/createGateway.ts';
import { MemoryStore, memoryLogger } from './support/fakes.ts';
import { ISSUER, startTestIssuer, type TestIssuer } from './support/testIssuer.ts';

const EVERYTHING = join(
  import.meta.dirname,
  '../../../node_modules/@modelcontextprotocol/server-everything/dist/index.js',
);

describe('gateway (stdio upstream, local issuer)', () => {
  let issuer: TestIssuer;
  let config: Config;
  let server: Server;
  let app: ReturnType<typeof createApp>;
  let base: string;
  let audit: ReturnType<typeof memoryLogger>;
  const clients: Client[] = [];

  before(async () => {
    issuer = await startTestIssuer();
    const dir = mkdtempSync(join(tmpdir(), 'gateway-test-'));
    const file = join(dir, 'upstreams.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        upstreams: [
          {
            name: 'everything',
            transport: { type: 'stdio', command: process.execPath, args: [EVERYTHING, 'stdio'] },
            timeoutSeconds: 20,
            tools: {
              deny: ['gzip-*'],
              rules: [{ match: 'get-env', scopes: ['mcp:admin'], roles: ['mcp-admin'] }],
            },
          },
        ],
      }),
    );
    // Port 0 cannot be in the resource URL: listen first, then build the config with the real port.
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
    config = loadConfig({
      MCP_RESOURCE_URL: `${base}/mcp`,
      OIDC_ISSUER: ISSUER,
      OIDC_JWKS_URL: issuer.jwksUrl,
      MCP_UPSTREAMS_FILE: file,
      LOG_LEVEL: 'silent',
    });
    audit = memoryLogger();
    app = createApp({
      config,
      verifier: createAccessTokenVerifier({
        ...config,
        audience: resourceUrls(config.resourceUrl, config.upstreams),
      }),
      store: new MemoryStore(),
      logger: memoryLogger().logger,
      audit: audit.logger,
    });
    server.on('request', app.callback());
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await app.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await issuer.close();
  });

  const tokenFor = (claims: Record<string, unknown>) =>
    issuer.sign({ aud: `${base}/mcp/everything`, scope: 'mcp:everything', ...claims });

  async function connect(token: string): Promise<Client> {
    const client = new Client({ name: 'gateway-test', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${base}/mcp/everything`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    clients.push(client);
    return client;
  }

  it('serves its own protected-resource metadata at the path-inserted URL', async () => {
    const res = await fetch(`${base}/.well-known/oauth-protected-resource/mcp/everything`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { resource: string; scopes_supported: string[] };
    assert.equal(body.resource, `${base}/mcp/everything`);
    assert.deepEqual(body.scopes_supported, ['mcp:everything', 'mcp:admin']);
  });

  it('refuses a token for another resource with 401 and names its own metadata', async () => {
    const token = await issuer.sign({ aud: `${base}/mcp`, scope: 'mcp:tools mcp:everything' });
    const res = await fetch(`${base}/mcp/everything`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json, text/event-stream',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    assert.equal(res.status, 401);
    assert.match(
      res.headers.get('www-authenticate') ?? '',
      /resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp\/everything"/,
    );
  });

  it('lists only the tools a caller may call, and calls one through the upstream', async () => {
    const client = await connect(await tokenFor({}));
    assert.equal(client.getServerVersion()?.name?.length !== 0, true);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    assert.ok(names.includes('echo'));
    assert.ok(!names.includes('get-env'), 'admin-only tool hidden from a plain user');
    assert.ok(!names.includes('gzip-file-as-resource'), 'denied tool hidden');
    const result = await client.callTool({ name: 'echo', arguments: { message: 'hi' } });
    assert.match(JSON.stringify(result.content), /hi/);
    assert.ok(audit.lines.some((line) => /"audit":"tool_call".*"tool":"echo".*"outcome":"ok"/.test(line)));
  });

  it('answers a forbidden tool with a step-up challenge before the upstream is asked', async () => {
    const token = await tokenFor({});
    const client = await connect(token);
    const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId as string;
    const res = await fetch(`${base}/mcp/everything`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'mcp-session-id': sessionId,
        accept: 'application/json, text/event-stream',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'get-env' } }),
    });
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /scope="mcp:everything mcp:admin"/);
  });

  it('lets an admin with the scope call the admin-only tool', async () => {
    const client = await connect(
      await tokenFor({ scope: 'mcp:everything mcp:admin', realm_access: { roles: ['mcp-admin'] } }),
    );
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    assert.ok(names.includes('get-env'));
    const result = await client.callTool({ name: 'get-env', arguments: {} });
    assert.equal(result.isError ?? false, false);
  });

  it('refuses another subject presenting a session id', async () => {
    const client = await connect(await tokenFor({}));
    const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId as string;
    const stranger = await tokenFor({ sub: 'f3b1c2d4-0000-4000-8000-00000000beef' });
    const res = await fetch(`${base}/mcp/everything`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${stranger}`,
        'mcp-session-id': sessionId,
        accept: 'application/json, text/event-stream',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(res.status, 404);
  });

  it('passes resources, prompts and completions through', async () => {
    const client = await connect(await tokenFor({}));
    const prompts = (await client.listPrompts()).prompts.map((prompt) => prompt.name);
    assert.ok(prompts.includes('simple-prompt'));
    const prompt = await client.getPrompt({ name: 'simple-prompt' });
    assert.ok(prompt.messages.length > 0);
    const resources = (await client.listResources()).resources;
    assert.ok(resources.length > 0);
    const read = await client.readResource({ uri: resources[0]!.uri });
    assert.ok(read.contents.length > 0);
    const completion = await client.complete({
      ref: { type: 'ref/prompt', name: 'completable-prompt' },
      argument: { name: 'department', value: 'E' },
    });
    assert.ok(Array.isArray(completion.completion.values));
    await client.setLoggingLevel('error');
  });

  it('streams progress notifications of a long call back to the caller', async () => {
    const client = await connect(await tokenFor({}));
    const seen: number[] = [];
    const result = await client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 3 } },
      undefined,
      { onprogress: (progress) => seen.push(progress.progress) },
    );
    assert.equal(result.isError ?? false, false);
    // The SDK client runs notification handlers a microtask later than the response, so the last report,
    // when it shares a network read with the response, can find its handler gone: assert the early ones.
    assert.equal(seen[0], 1);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => a - b),
    );
  });
});
