// Claude Code (the native build of npm @anthropic-ai/claude-code, pinned in setup-claude-code.sh, which npm test
// runs) with its own MCP OAuth, no model involved: the command lines the seed prints (`npm run seed -- configs
// claude-code`) add the server, `claude mcp list` finds that it needs authentication, and the login runs through
// Claude Code's stream-json control protocol (the one its Agent SDK speaks): `mcp_authenticate` is what the TUI's
// /mcp → Authenticate calls (discovery from the 401 and metadata, PKCE S256, a loopback callback listener) and
// answers the Keycloak URL instead of opening a browser; headless Chromium logs in on Keycloak's form and lands on
// that listener; `mcp_status` then shows the server connected with its tools, and a later `claude mcp list`
// connects with the stored tokens. A dummy API key: nothing here reaches a model. Keycloak advertises client ID
// metadata documents (docs/cimd.md), so Claude Code uses its own, https://claude.ai/oauth/claude-code-client-metadata,
// as client_id instead of registering (DCR): the seed's pinned copy here (no network needed), and one served by the
// test (MCP_OAUTH_CLIENT_METADATA_URL, Claude Code's override) that Keycloak fetches; `--client-id` uses a preset.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hostConfigs } from '@mcp-keycloak-stack/seed/hostConfigs';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { loadStack } from '../e2e/support/stack.ts';
import {
  assertMcpAuthorizationRequest,
  deleteRegisteredClients,
  METADATA_SCOPES_WITH_REFRESH,
} from './support/authorizationRequest.ts';
import { screenshotDir } from './support/browser.ts';
import {
  accessTokenClaims,
  CLAUDE_CODE_VERSION,
  claudeBin,
  ClaudeCodeHomes,
  SETUP_SCRIPT,
  untilPortFree,
} from './support/claudeCode.ts';
import { keycloakAdmin } from './support/consoleClient.ts';
import {
  DocumentServer,
  hostDocument,
  trustLoopbackDocuments,
} from '../integration/support/cimdDocuments.ts';

/** The server name in the printed command lines. */
const SERVER_NAME = 'mcp-keycloak-stack';

describe(
  'Claude Code with its own MCP OAuth (discovery → client ID metadata document → PKCE), no model',
  { concurrency: false },
  () => {
    let card: StackCard;
    let homes: ClaudeCodeHomes;
    let work: string;
    const registeredClientIds: string[] = [];
    let loggedIn = false;

    const claude = (home: string, args: string[]) => homes.claude(home, args);
    const addAndLogin = (home: string, who: string, addArgs: string[]) =>
      homes.addAndLogin(home, who, addArgs, SERVER_NAME);

    /** The printed command lines: `claude mcp add …` as is, and the one with the seeded client id. */
    function printedLines(): { plain: string[]; preset: string[] } {
      const lines = (hostConfigs(card).find((b) => b.host === 'claude-code')?.text ?? '')
        .split('\n')
        .map((line) => line.replace(/^# [^:]*: /, ''))
        .filter((line) => line.startsWith('claude mcp add '))
        .map((line) => line.split(' ').slice(1));
      assert.equal(lines.length, 2, 'two printed command lines');
      const [plain, preset] = lines as [string[], string[]];
      assert.ok(!plain.includes('--client-id'), plain.join(' '));
      assert.ok(preset.includes('--client-id'), preset.join(' '));
      return { plain, preset };
    }

    before(async () => {
      if (!existsSync(claudeBin())) {
        throw new Error(`missing ${claudeBin()}: npm test provisions it (bash ${SETUP_SCRIPT})`);
      }
      card = await loadStack();
      work = await mkdtemp(join(tmpdir(), 'claude-code-test-'));
      const shots = await screenshotDir('claude-code');
      homes = new ClaudeCodeHomes({ card, work, shots, registeredClientIds });
    });
    after(async () => {
      await homes?.close();
      if (work) await rm(work, { recursive: true, force: true });
      await deleteRegisteredClients(card, registeredClientIds);
    });

    it(`is the pinned release (${CLAUDE_CODE_VERSION})`, async () => {
      await mkdir(join(work, 'version', 'project'), { recursive: true });
      const run = await claude('version', ['--version']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^${CLAUDE_CODE_VERSION.replaceAll('.', '\\.')} `));
    });

    it('the printed line: its client ID metadata document as client_id (the pinned copy), alice, PKCE S256, tools', async () => {
      const document = card.clients.presets?.['claude-code-cimd'];
      assert.ok(
        document,
        'the stack card has no claude-code-cimd preset (SEED_PRESETS): Keycloak would fetch',
      );
      const { plain } = printedLines();
      assert.deepEqual(plain, ['mcp', 'add', '--transport', 'http', SERVER_NAME, card.mcpUrl]);
      const { url, server, stored } = await addAndLogin('alice', 'alice', plain);

      // The scopes of the server's metadata, and offline_access for a refresh token.
      assertMcpAuthorizationRequest(url, card, METADATA_SCOPES_WITH_REFRESH);
      // No registration: the document's URL is the client_id (SEP-991), answered from the seed's pinned copy.
      assert.equal(url.searchParams.get('client_id'), document.clientId);
      assert.equal(document.clientId, 'https://claude.ai/oauth/claude-code-client-metadata');
      // Its listener: http://localhost:<a port it picks>/callback, which the document's port-less URI covers.
      const redirect = new URL(url.searchParams.get('redirect_uri') ?? '');
      assert.equal(
        `${redirect.protocol}//${redirect.hostname}${redirect.pathname}`,
        'http://localhost/callback',
      );
      const admin = await keycloakAdmin(card);
      const [client] = await admin.clients.find({ clientId: document.clientId });
      assert.equal(client?.name, 'Claude Code');
      assert.equal(client?.publicClient, true);
      assert.equal(client?.consentRequired, true);

      const tools = (server.tools ?? []).map((t) => t.name);
      assert.ok(tools.includes('whoami'), `tools: ${tools.join(', ')}`);
      // The token it keeps: alice's, for the MCP URL, with mcp:admin (her role lets Keycloak grant it).
      const claims = accessTokenClaims(stored);
      assert.equal(stored.clientId, document.clientId);
      assert.equal(claims.azp, document.clientId);
      assert.equal(claims.preferred_username, 'alice');
      assert.ok([claims.aud].flat().includes(card.mcpUrl), JSON.stringify(claims.aud));
      assert.ok(claims.scope?.split(' ').includes('mcp:admin'), claims.scope);
      loggedIn = true;
    });

    it('a later `claude mcp list` connects with the stored tokens (no second login)', async () => {
      assert.ok(loggedIn, 'the login test did not run');
      const run = await claude('alice', ['mcp', 'list']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`${SERVER_NAME}: .*Connected`), run.stdout);
    });

    it('a document Keycloak fetches (MCP_OAUTH_CLIENT_METADATA_URL, served over HTTPS here): the client it makes, bob', async () => {
      const documents = await DocumentServer.start();
      const restorePolicy = await trustLoopbackDocuments(card);
      const clientId = documents.serve('/claude-code-client-metadata', (url) =>
        hostDocument(url, 'Claude Code (test document)', [
          'http://localhost/callback',
          'http://127.0.0.1/callback',
        ]),
      );
      const fetched = new ClaudeCodeHomes({
        card,
        work,
        shots: await screenshotDir('claude-code-cimd'),
        registeredClientIds,
        extraEnv: { MCP_OAUTH_CLIENT_METADATA_URL: clientId },
      });
      try {
        const { plain } = printedLines();
        const { url, server, stored } = await fetched.addAndLogin('bob-cimd', 'bob', plain, SERVER_NAME);
        assert.equal(url.searchParams.get('client_id'), clientId);
        assert.equal(documents.fetches('/claude-code-client-metadata'), 1);
        const [client] = await (await keycloakAdmin(card)).clients.find({ clientId });
        assert.equal(client?.name, 'Claude Code (test document)');
        assert.equal(client?.consentRequired, true);
        assert.ok(
          (server.tools ?? []).some((t) => t.name === 'whoami'),
          JSON.stringify(server),
        );
        const claims = accessTokenClaims(stored);
        assert.equal(claims.azp, clientId);
        assert.equal(claims.preferred_username, 'bob');
      } finally {
        await fetched.close();
        await documents.close();
        await restorePolicy();
      }
    });

    it('the printed line with a fixed client: the seeded claude-code client on its fixed callback port, bob', async () => {
      const preset = card.clients.presets?.['claude-code'];
      assert.ok(preset, 'the stack card has no claude-code preset (SEED_PRESETS)');
      const { preset: line } = printedLines();
      assert.equal(line[line.indexOf('--client-id') + 1], preset.clientId);
      const port = Number(line[line.indexOf('--callback-port') + 1]);
      assert.ok(port > 0, line.join(' '));
      await untilPortFree(port);

      const { url, server, stored } = await addAndLogin('bob-preset', 'bob', line);
      assert.equal(url.searchParams.get('client_id'), preset.clientId); // no registration
      assert.equal(url.searchParams.get('redirect_uri'), `http://localhost:${port}/callback`);
      assertMcpAuthorizationRequest(url, card, METADATA_SCOPES_WITH_REFRESH);
      assert.ok(
        (server.tools ?? []).some((t) => t.name === 'whoami'),
        JSON.stringify(server),
      );
      const claims = accessTokenClaims(stored);
      assert.equal(claims.azp, preset.clientId);
      assert.equal(claims.preferred_username, 'bob');
      assert.ok(claims.scope?.split(' ').includes('mcp:tools'), claims.scope);
      assert.ok(
        !claims.scope?.split(' ').includes('mcp:admin'),
        `bob's token carries mcp:admin: ${claims.scope}`,
      );
    });
  },
);
