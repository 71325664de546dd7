// docs/clients.md ("Recipes for MCP clients", linked from the README) shows the configurations `npm run seed --
// configs` prints on a default stack. This test prints them the way the seed does (hostConfigs on a card whose
// presets come from the presets module with the default seed config) and finds each block, verbatim, in a fenced
// code block of that page, so the manual and the seed cannot drift apart.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hostPreset } from '../src/clients/presets.ts';
import { loadSeedConfig } from '../src/config.ts';
import { hostConfigs } from '../src/hostConfigs.ts';
import { presetOptions } from '../src/seed.ts';
import type { StackCard } from '../src/stackCard.ts';

const PAGE = new URL('../../docs/clients.md', import.meta.url);
const PAGE_NAME = 'docs/clients.md';
const SECTION = '# Recipes for MCP clients';
/** Default resource URL of the MCP server, launcher and compose (docs/ARCHITECTURE.md, "Default ports and URLs"). */
const DEFAULT_MCP_URL = 'http://localhost:3000/mcp';

/** The card a default stack has after the seed: the stack's URLs and clients.presets as seed.ts records them. */
function defaultStackCard(): StackCard {
  const config = loadSeedConfig({ KEYCLOAK_ADMIN_PASSWORD: 'unused' });
  const presets: NonNullable<StackCard['clients']['presets']> = {};
  for (const name of config.SEED_PRESETS) {
    const spec = hostPreset(name, presetOptions(config));
    presets[name] = { clientId: spec.clientId, redirectUris: spec.redirectUris };
  }
  const mcp = new URL(DEFAULT_MCP_URL);
  return {
    version: 1,
    mode: 'native',
    issuer: `${config.KEYCLOAK_URL}/realms/${config.KEYCLOAK_REALM}`,
    keycloakUrl: config.KEYCLOAK_URL,
    realm: config.KEYCLOAK_REALM,
    mcpUrl: DEFAULT_MCP_URL,
    resourceMetadataUrl: `${mcp.origin}/.well-known/oauth-protected-resource${mcp.pathname}`,
    valkeyUrl: 'redis://127.0.0.1:6379',
    users: [],
    clients: { presets },
  };
}

/** The contents of every fenced code block (```lang … ```) in the client-recipe page's section. */
function recipeCodeBlocks(): string[] {
  const readme = `\n${readFileSync(PAGE, 'utf8')}`;
  const start = readme.indexOf(`\n${SECTION}\n`);
  assert.ok(start >= 0, `${PAGE_NAME} has no "${SECTION}" section`);
  const end = readme.indexOf('\n## ', start + SECTION.length + 2);
  const lines = readme.slice(start, end < 0 ? undefined : end).split('\n');
  const blocks: string[] = [];
  let open: string[] | undefined;
  for (const line of lines) {
    if (open === undefined) {
      if (/^```[\w-]*$/.test(line)) open = [];
    } else if (line === '```') {
      blocks.push(open.join('\n'));
      open = undefined;
    } else {
      open.push(line);
    }
  }
  assert.equal(open, undefined, `an unclosed code block in ${PAGE_NAME}'s "${SECTION}"`);
  return blocks;
}

describe("the manual's client recipes (docs/clients.md) show what the seed prints", () => {
  const configs = hostConfigs(defaultStackCard());
  const blocks = recipeCodeBlocks();

  it('the default card yields a configuration for every known host', () => {
    assert.deepEqual(
      configs.map((c) => c.host),
      ['vscode', 'claude-code', 'claude-desktop', 'cursor', 'mcp-inspector', 'librechat', 'mcp-remote'],
    );
  });

  for (const { host, text } of configs) {
    it(`${host}: the printed block appears verbatim in a fenced code block`, () => {
      // Whole lines: the block may sit among other lines of a code block, never cut inside one.
      const found = blocks.some((block) => `\n${block}\n`.includes(`\n${text}\n`));
      assert.ok(
        found,
        `${PAGE_NAME} "${SECTION}" has no fenced code block containing the ${host} configuration ` +
          `that \`npm run seed -- configs ${host}\` prints on a default stack. Expected, verbatim:\n${text}`,
      );
    });
  }
});
