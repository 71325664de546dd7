// `mark-ready` (compose's stack-ready one-shot, seed/src/markReady.ts): the card goes from "starting" to "ready"
// only once the MCP server's /readyz is 200 and Keycloak serves the realm with the card's issuer; otherwise it
// stays "starting" and the failure names what is not ready.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SeedError } from '../src/errors.ts';
import { markReady, readyOptionsFrom, type ReadyOptions } from '../src/markReady.ts';
import { readStackCard, writeStackCard, type StackCard } from '../src/stackCard.ts';

const ISSUER = 'http://localhost:8080/realms/mcp';
const startedAt = new Date(Date.now() - 30_000).toISOString();

async function startingCard(): Promise<string> {
  const cardPath = join(await mkdtemp(join(tmpdir(), 'mark-ready-')), 'stack.json');
  const card: StackCard = {
    version: 1,
    mode: 'compose',
    status: 'starting',
    issuer: ISSUER,
    keycloakUrl: 'http://localhost:8080',
    realm: 'mcp',
    mcpUrl: 'http://localhost:3000/mcp',
    resourceMetadataUrl: 'http://localhost:3000/.well-known/oauth-protected-resource/mcp',
    valkeyUrl: 'redis://127.0.0.1:6379',
    users: [],
    clients: {},
    startedAt,
  };
  await writeStackCard(cardPath, card);
  return cardPath;
}

const options = (cardPath: string, waitSeconds = 60): ReadyOptions => ({
  cardPath,
  mcpReadyUrl: 'http://mcp-server:3000/readyz',
  keycloakUrl: 'http://keycloak:8080',
  realm: 'mcp',
  waitSeconds,
});

type Answer = { status: number; body: unknown } | Error;

/** A fetch answering each URL from its list in turn (the last answer repeats); records the URLs asked. */
function fakeFetch(answers: Record<string, Answer[]>) {
  const asked: string[] = [];
  const fetch = (async (input: string | URL | Request) => {
    const url = String(input);
    asked.push(url);
    const list = answers[url];
    assert.ok(list, `unexpected request to ${url}`);
    const answer = list.length > 1 ? list.shift() : list[0];
    if (answer instanceof Error) throw answer;
    return new Response(JSON.stringify(answer?.body), { status: answer?.status ?? 500 });
  }) as typeof globalThis.fetch;
  return { fetch, asked };
}

const DISCOVERY = 'http://keycloak:8080/realms/mcp/.well-known/openid-configuration';
const READYZ = 'http://mcp-server:3000/readyz';
const valkeyDown = {
  status: 503,
  body: {
    status: 'unavailable',
    checks: { valkey: { ok: false, error: 'connect ECONNREFUSED 10.0.0.3:6379' }, jwks: { ok: true } },
  },
};
const ok = { status: 200, body: { status: 'ok', checks: { valkey: { ok: true }, jwks: { ok: true } } } };
const noPause = async () => {};

describe('markReady', () => {
  it('waits while /readyz is 503, then marks the card ready with readyAt and startupMs', async () => {
    const cardPath = await startingCard();
    const { fetch, asked } = fakeFetch({
      [DISCOVERY]: [{ status: 200, body: { issuer: ISSUER } }],
      [READYZ]: [valkeyDown, valkeyDown, ok],
    });
    const lines: string[] = [];
    const marked = await markReady(options(cardPath), (l) => lines.push(l), { fetch, pause: noPause });
    assert.equal(asked.filter((url) => url === READYZ).length, 3);
    assert.match(
      lines[0] ?? '',
      /waiting for a ready stack: MCP server \/readyz: HTTP 503 \(valkey: connect ECONNREFUSED/,
    );
    assert.match(
      lines.at(-1) ?? '',
      /^stack ready, \d+\.\ds after the seed began: MCP server http:\/\/localhost:3000\/mcp/,
    );
    const card = await readStackCard(cardPath);
    assert.deepEqual(card, marked);
    assert.equal(card?.status, 'ready');
    assert.equal(card?.startupMs, Date.parse(card?.readyAt ?? '') - Date.parse(startedAt));
    assert.ok((card?.startupMs ?? 0) >= 30_000);
  });

  it('waits for Keycloak too: the realm unreachable, then not there yet, then served', async () => {
    const cardPath = await startingCard();
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    const { fetch } = fakeFetch({
      [DISCOVERY]: [refused, { status: 404, body: {} }, { status: 200, body: { issuer: ISSUER } }],
      [READYZ]: [ok],
    });
    const lines: string[] = [];
    await markReady(options(cardPath), (l) => lines.push(l), { fetch, pause: noPause });
    assert.match(lines[0] ?? '', /Keycloak at http:\/\/keycloak:8080: ECONNREFUSED/);
    assert.equal((await readStackCard(cardPath))?.status, 'ready');
  });

  it('not ready in time: stack_not_ready naming what still fails; the card stays "starting"', async () => {
    const cardPath = await startingCard();
    const { fetch } = fakeFetch({
      [DISCOVERY]: [{ status: 200, body: { issuer: ISSUER } }],
      [READYZ]: [valkeyDown],
    });
    await assert.rejects(
      markReady(options(cardPath, 0), () => {}, { fetch, pause: noPause }),
      (error: unknown) => {
        assert.ok(error instanceof SeedError);
        assert.equal(error.code, 'stack_not_ready');
        assert.match(
          error.message,
          /not ready within 0s \(SEED_WAIT_SECONDS\): MCP server \/readyz: HTTP 503 \(valkey: connect/,
        );
        assert.match(error.message, /stays "starting"/);
        return true;
      },
    );
    assert.equal((await readStackCard(cardPath))?.status, 'starting');
  });

  it('a realm with another issuer fails at once (waiting would not fix it)', async () => {
    const cardPath = await startingCard();
    const { fetch, asked } = fakeFetch({
      [DISCOVERY]: [{ status: 200, body: { issuer: 'http://keycloak:8080/realms/mcp' } }],
      [READYZ]: [ok],
    });
    await assert.rejects(
      markReady(options(cardPath), () => {}, { fetch, pause: noPause }),
      /says issuer http:\/\/keycloak:8080\/realms\/mcp, the stack card http:\/\/localhost:8080\/realms\/mcp.*KC_PUBLIC_URL/,
    );
    assert.equal(asked.filter((url) => url === DISCOVERY).length, 1);
    assert.equal((await readStackCard(cardPath))?.status, 'starting');
  });

  it('no card: stack_not_ready, the seed writes it first', async () => {
    const cardPath = join(await mkdtemp(join(tmpdir(), 'mark-ready-')), 'stack.json');
    await assert.rejects(
      markReady(options(cardPath), () => {}, { fetch: fakeFetch({}).fetch, pause: noPause }),
      /no stack card at .*stack\.json: the seed writes it before this runs/,
    );
  });
});

describe('readyOptionsFrom', () => {
  const env = { STACK_READY_MCP_URL: 'http://mcp-server:3000/readyz', KEYCLOAK_URL: 'http://keycloak:8080/' };

  it('reads the stack-ready service environment, with the seed defaults', () => {
    assert.deepEqual(readyOptionsFrom(env, '/stack/stack.json'), {
      cardPath: '/stack/stack.json',
      mcpReadyUrl: 'http://mcp-server:3000/readyz',
      keycloakUrl: 'http://keycloak:8080',
      realm: 'mcp',
      waitSeconds: 120,
    });
  });

  it('names a missing or wrong variable', () => {
    assert.throws(
      () => readyOptionsFrom({ ...env, STACK_READY_MCP_URL: '' }, 'x'),
      /STACK_READY_MCP_URL must be/,
    );
    assert.throws(
      () => readyOptionsFrom({ ...env, KEYCLOAK_URL: 'keycloak:8080' }, 'x'),
      /KEYCLOAK_URL must be/,
    );
    assert.throws(() => readyOptionsFrom({ ...env, SEED_WAIT_SECONDS: 'soon' }, 'x'), /SEED_WAIT_SECONDS/);
    assert.throws(() => readyOptionsFrom({ ...env, KEYCLOAK_REALM: 'a b' }, 'x'), /KEYCLOAK_REALM/);
  });
});
