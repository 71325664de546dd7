// `npm run seed -- upstreams [--file PATH] [--base-url URL]`: the upstream part of the seed only
// (seedUpstreams.ts). --file: another upstreams file than MCP_UPSTREAMS_FILE; --base-url: another built-in MCP URL
// than the card's mcpUrl (a test's second gateway on its own port). With either, the card's `upstreams` (which
// describe this stack's own server) are left as they are; the gateway client, being the realm's, is recorded.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openAdminSession } from '../adminSession.ts';
import type { SeedConfig } from '../config.ts';
import { checkRealm } from '../ensureRealm.ts';
import { SeedError } from '../errors.ts';
import { publicClientIds } from '../seed.ts';
import { readStackCard, updateStackCard } from '../stackCard.ts';
import { waitForKeycloak } from '../waitForKeycloak.ts';
import { readUpstreams } from './readUpstreams.ts';
import { seedUpstreams, type UpstreamSeedResult } from './seedUpstreams.ts';

const USAGE = 'usage: upstreams [--file PATH] [--base-url URL]';

export async function runUpstreamsCommand(
  config: SeedConfig,
  args: string[],
  env: Readonly<Record<string, string | undefined>>,
  say: (line: string) => void,
): Promise<UpstreamSeedResult> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { file: { type: 'string' }, 'base-url': { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    throw new SeedError('config_invalid', `upstreams: ${(error as Error).message} (${USAGE})`);
  }
  const baseUrl = values['base-url'];
  if (baseUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(baseUrl)) {
    throw new SeedError('config_invalid', `upstreams: --base-url must be an absolute http(s) URL (${USAGE})`);
  }
  const card = await readStackCard(config.STACK_CARD_PATH);
  const builtinUrl = baseUrl?.replace(/\/+$/, '') ?? card?.mcpUrl;
  if (!builtinUrl) {
    throw new SeedError(
      'config_invalid',
      `upstreams: no stack card at ${config.STACK_CARD_PATH} to take the MCP URL from: pass --base-url`,
    );
  }
  const file = values.file === undefined ? config.MCP_UPSTREAMS_FILE : resolve(values.file);
  const upstreams = readUpstreams(file, env);
  if (!file) say('upstreams: MCP_UPSTREAMS_FILE is not set: none seeded');

  await waitForKeycloak(config.KEYCLOAK_URL, config.SEED_WAIT_SECONDS, say);
  const admin = await openAdminSession(config);
  await checkRealm(admin, config.KEYCLOAK_REALM);
  const result = await seedUpstreams(
    admin,
    { upstreams, builtinUrl, publicClients: publicClientIds(config), m2mClientId: config.SEED_M2M_CLIENT_ID },
    say,
  );
  // This stack's own file and URL: the card's list is rewritten (not when there is no file, see seed.ts).
  const own = values.file === undefined && baseUrl === undefined && file !== undefined;
  if (card && (own || result.gateway)) {
    await updateStackCard(config.STACK_CARD_PATH, (current) => ({
      ...current,
      ...(own && { upstreams: result.upstreams }),
      ...(result.gateway && { gateway: result.gateway }),
    }));
  }
  return result;
}
