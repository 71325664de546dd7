// `npm run seed -- prune-clients [--unused-for SECONDS] [--every SECONDS]`: deletes self-registered clients
// that have been unused that long (pruneClients.ts). With --every it runs until stopped (the native launcher
// and the compose `janitor` service run it so); a failed run is reported and the next one tried on time.
import { parseArgs } from 'node:util';
import { openAdminSession } from '../adminSession.ts';
import type { SeedConfig } from '../config.ts';
import { SeedError } from '../errors.ts';
import { waitForKeycloak } from '../waitForKeycloak.ts';
import { pruneUnusedClients } from './pruneClients.ts';

const DAY = 86_400;

function seconds(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) {
    throw new SeedError(
      'config_invalid',
      `prune-clients: ${name} must be a whole number of seconds (got ${value})`,
    );
  }
  return Number(value);
}

export async function runPruneCommand(
  config: SeedConfig,
  args: string[],
  say: (line: string) => void,
): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { 'unused-for': { type: 'string' }, every: { type: 'string' } },
      strict: true,
    });
  } catch (error) {
    throw new SeedError(
      'config_invalid',
      `prune-clients: ${(error as Error).message} (usage: prune-clients [--unused-for SECONDS] [--every SECONDS])`,
    );
  }
  const unusedForSeconds = seconds('--unused-for', parsed.values['unused-for'], DAY);
  const every = seconds('--every', parsed.values.every, 0);
  await waitForKeycloak(config.KEYCLOAK_URL, config.SEED_WAIT_SECONDS, say);

  const once = async () => {
    // A fresh session per run: a janitor running for days must not depend on one admin token's refresh.
    const admin = await openAdminSession(config);
    const result = await pruneUnusedClients(admin, { unusedForSeconds });
    say(
      `prune-clients: deleted ${result.deleted.length} self-registered client(s) unused for ${unusedForSeconds}s` +
        `${result.deleted.length ? ` (${result.deleted.slice(0, 5).join(', ')}${result.deleted.length > 5 ? ', …' : ''})` : ''}; ` +
        `kept ${result.kept}; ${result.remaining} client(s) in realm ${config.KEYCLOAK_REALM}`,
    );
  };
  if (every === 0) return once();
  say(`prune-clients: every ${every}s, deleting self-registered clients unused for ${unusedForSeconds}s`);
  for (;;) {
    await once().catch((error: unknown) =>
      say(`prune-clients: this run failed (${(error as Error).message}); next in ${every}s`),
    );
    await new Promise((resolve) => setTimeout(resolve, every * 1000));
  }
}
