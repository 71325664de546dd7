// Claude Code (the native build claudeCode.test.ts drives, same helpers) pointed at the gateway: the stack's own
// upstream `everything` (the stack card's `upstreams` entry, @modelcontextprotocol/server-everything behind
// /mcp/everything). It finds the upstream's own metadata from its 401, names its client ID metadata document as
// client_id (the seed's pinned copy, docs/cimd.md), sends bob to Keycloak with the upstream's scope, and connects
// with the upstream's tools. To prove a tool call it needs a
// model that asks for one: a stand-in for the Messages API (support/standInModel.ts, through ANTHROPIC_BASE_URL)
// answers `claude -p` with a tool_use of echo; Claude Code calls it through the gateway with bob's token and
// sends the tool's answer back to the stand-in, which records it. Nothing leaves the machine.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StackCard, StackUpstream } from '@mcp-keycloak-stack/seed/stackCard';
import { loadStack } from '../e2e/support/stack.ts';
import { deleteRegisteredClients } from './support/authorizationRequest.ts';
import { screenshotDir } from './support/browser.ts';
import {
  accessTokenClaims,
  claudeBin,
  ClaudeCodeHomes,
  SETUP_SCRIPT,
  type StoredLogin,
} from './support/claudeCode.ts';
import { keycloakAdmin } from './support/consoleClient.ts';
import { startStandInModel, type StandInModel } from './support/standInModel.ts';

/** The stack's upstream (compose/gateway/upstreams.yaml), and Claude Code's name for the server. */
const UPSTREAM = 'everything';
const SERVER_NAME = 'everything';
/** Claude Code's name for an MCP tool: mcp__<server>__<tool>. */
const ECHO = `mcp__${SERVER_NAME}__echo`;
const MESSAGE = 'hello from Claude Code through the gateway';

describe(
  'Claude Code through the gateway: the stack upstream `everything`, bob logged in',
  { concurrency: false },
  () => {
    let card: StackCard;
    let upstream: StackUpstream;
    let homes: ClaudeCodeHomes;
    let model: StandInModel;
    let work: string;
    let login: StoredLogin | undefined;
    let clientId: string | undefined;
    const registeredClientIds: string[] = [];

    before(async () => {
      if (!existsSync(claudeBin())) {
        throw new Error(`missing ${claudeBin()}: npm test provisions it (bash ${SETUP_SCRIPT})`);
      }
      card = await loadStack();
      const found = card.upstreams?.find((u) => u.name === UPSTREAM);
      assert.ok(found, `the stack card lists no upstream ${UPSTREAM}: ${JSON.stringify(card.upstreams)}`);
      upstream = found;
      work = await mkdtemp(join(tmpdir(), 'claude-code-gateway-test-'));
      model = await startStandInModel(ECHO, { message: MESSAGE });
      homes = new ClaudeCodeHomes({
        card,
        work,
        shots: await screenshotDir('claude-code-gateway'),
        registeredClientIds,
        // MCP tools offered to the model directly, not deferred behind ToolSearch (the stand-in does not search).
        extraEnv: { ANTHROPIC_BASE_URL: model.baseUrl, ENABLE_TOOL_SEARCH: 'false' },
      });
    });
    after(async () => {
      await homes?.close();
      await model?.close();
      if (work) await rm(work, { recursive: true, force: true });
      await deleteRegisteredClients(card, registeredClientIds);
    });

    it('finds the upstream’s own metadata, logs bob in with its metadata document for the upstream only', async () => {
      const { url, server, stored } = await homes.addAndLogin(
        'bob',
        'bob',
        ['mcp', 'add', '--transport', 'http', SERVER_NAME, upstream.mcpUrl],
        SERVER_NAME,
      );
      login = stored;

      // Keycloak's endpoint, PKCE S256, the upstream's URL as `resource`, the upstream's scope from its metadata.
      assert.equal(url.origin + url.pathname, `${card.issuer}/protocol/openid-connect/auth`);
      assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(url.searchParams.get('resource'), upstream.mcpUrl);
      const asked = url.searchParams.get('scope')?.split(' ') ?? [];
      for (const scope of upstream.scopes) assert.ok(asked.includes(scope), `asked for ${asked.join(' ')}`);

      // Its client ID metadata document as client_id: the seed's pinned copy (preset claude-code-cimd).
      const document = card.clients.presets?.['claude-code-cimd']?.clientId;
      assert.ok(
        document,
        'the stack card has no claude-code-cimd preset (SEED_PRESETS): Keycloak would fetch',
      );
      assert.equal(url.searchParams.get('client_id'), document);
      const admin = await keycloakAdmin(card);
      const [registered] = await admin.clients.find({ clientId: document });
      assert.equal(registered?.name, 'Claude Code');
      clientId = registered?.clientId;

      // The upstream's tools (server-everything's), listed through the gateway.
      const tools = (server.tools ?? []).map((t) => t.name);
      assert.ok(
        tools.some((t) => t === 'echo' || t === ECHO),
        `tools: ${tools.join(', ')}`,
      );

      // The token it keeps: bob's, from that client, for the upstream's URL.
      const claims = accessTokenClaims(stored);
      assert.equal(claims.azp, registered?.clientId);
      assert.equal(claims.preferred_username, 'bob');
      // aud: the upstream's URL alone — not the built-in /mcp: bob gets no mcp:admin (whose audience is the
      // built-in URL; alice's token would carry it), and the client has no mcp:tools it did not ask for.
      assert.deepEqual([claims.aud].flat(), [upstream.mcpUrl]);
      for (const scope of upstream.scopes) assert.ok(claims.scope?.split(' ').includes(scope), claims.scope);
    });

    it('calls echo through the gateway with that token (a stand-in model asks for the call)', async () => {
      assert.ok(login, 'the login test did not run');
      const run = await homes.claude(
        'bob',
        [
          '-p',
          `Call the echo tool with the message "${MESSAGE}".`,
          '--output-format',
          'stream-json',
          '--verbose',
          '--allowedTools',
          ECHO,
          '--max-turns',
          '3',
        ],
        { timeoutMs: 120_000 },
      );
      const transcript = `${run.stderr}\n${run.stdout}`;
      assert.equal(run.code, 0, transcript);
      assert.ok(
        model.offeredTools.some((tools) => tools.includes(ECHO)),
        `Claude Code never offered ${ECHO} to the model: ${JSON.stringify(model.offeredTools)}\n${transcript}`,
      );
      assert.equal(model.toolUses, 1, transcript);
      assert.equal(model.toolResults.length, 1, transcript);
      const [result] = model.toolResults;
      assert.equal(result?.isError, false, JSON.stringify(result));
      assert.equal(result?.text, `Echo: ${MESSAGE}`);

      // Claude Code's own transcript shows the same tool result.
      const toolResults = run.stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { type?: string; message?: { content?: unknown } })
        .filter((m) => m.type === 'user')
        .flatMap((m) =>
          Array.isArray(m.message?.content) ? (m.message.content as Record<string, unknown>[]) : [],
        )
        .filter((c) => c.type === 'tool_result');
      assert.equal(toolResults.length, 1, run.stdout);
      assert.match(JSON.stringify(toolResults[0]), new RegExp(`Echo: ${MESSAGE}`));

      // The gateway's side: its audit line names the upstream, the tool, bob and Claude Code's client (read where
      // the native stack keeps the server's output; a compose stack's is in `docker compose logs`).
      const log = card.logsDir ? join(card.logsDir, 'mcp-server.log') : undefined;
      if (card.mode === 'native' && log && existsSync(log)) {
        const sub = accessTokenClaims(login).sub;
        let line: Record<string, unknown> | undefined;
        for (let attempt = 0; attempt < 50 && !line; attempt += 1) {
          line = (await readFile(log, 'utf8'))
            .split('\n')
            .filter((l) => l.includes('"audit":"tool_call"') && l.endsWith('}'))
            .map((l) => JSON.parse(l) as Record<string, unknown>)
            .find((a) => a.upstream === UPSTREAM && a.tool === 'echo' && a.clientId === clientId);
          if (!line) await sleep(100);
        }
        assert.ok(line, `no audit line for ${UPSTREAM}/echo by ${clientId} in ${log}`);
        assert.equal(line.outcome, 'ok');
        assert.equal(line.subject, sub);
      }
    });
  },
);
