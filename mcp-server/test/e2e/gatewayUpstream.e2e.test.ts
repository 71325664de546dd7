// The default stack's own gateway upstream (compose/gateway/upstreams.yaml: server-everything over stdio at
// /mcp/everything), natively and in compose (`npm run test:compose` runs this folder too): the image carries the
// third-party server, the file is mounted, the seed gave the realm its scope, and the card lists it.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { connectWithToken } from './support/mcpClient.ts';
import { decodeJwtPayload, loadStack } from './support/stack.ts';
import { clientCredentialsToken } from './support/tokens.ts';

describe("the default stack's gateway upstream", () => {
  let card: StackCard;
  let upstream: { name: string; mcpUrl: string; resourceMetadataUrl: string; scopes: string[] } | undefined;
  const tokenEndpoint = () => `${card.issuer}/protocol/openid-connect/token`;

  before(async () => {
    card = await loadStack();
    upstream = card.upstreams?.find((u) => u.name === 'everything');
  });

  it('is listed in the stack card after the built-in resource', (t) => {
    if (!card.upstreams?.length) return t.skip('this stack runs without an upstreams file');
    assert.equal(card.upstreams[0]?.name, 'builtin');
    assert.equal(card.upstreams[0]?.mcpUrl, card.mcpUrl);
    assert.ok(upstream, `no upstream "everything" in the card: ${JSON.stringify(card.upstreams)}`);
  });

  it('serves its own metadata and calls a tool of the third-party server for an M2M token of its scope', async (t) => {
    if (!upstream) return t.skip('no upstream "everything" on this stack');
    const metadata = (await (await fetch(upstream.resourceMetadataUrl)).json()) as { resource: string };
    assert.equal(metadata.resource, upstream.mcpUrl);
    const m2m = card.clients.m2m;
    assert.ok(m2m, 'the seed wrote no M2M client into the stack card');
    const { access_token: token } = await clientCredentialsToken(tokenEndpoint(), m2m, 'mcp:everything');
    const aud = decodeJwtPayload(token).aud;
    assert.deepEqual(typeof aud === 'string' ? [aud] : aud, [upstream.mcpUrl]);
    const client = await connectWithToken(upstream.mcpUrl, token);
    try {
      const result = await client.callTool({ name: 'echo', arguments: { message: 'through the gateway' } });
      assert.match(JSON.stringify(result.content), /through the gateway/);
    } finally {
      await client.close();
    }
    // The same token opens nothing at the built-in resource: its audience is the upstream's only.
    const builtin = await fetch(card.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    assert.equal(builtin.status, 401);
  });
});
