// Entry of the seed (native launcher, compose job, `npm run seed`): exit 0 on success, 1 otherwise.
//   npm run seed                     converge users, clients and host presets; print host configurations
//   npm run seed -- configs [host]   print the ready-to-paste host configurations only
//   npm run seed -- keys …           signing-key rotation (see `npm run seed -- keys help`)
//   npm run seed -- prune-clients    delete self-registered clients unused for a day (--unused-for, --every)
//   npm run seed -- upstreams        the realm side of MCP_UPSTREAMS_FILE only (--file, --base-url)
//   npm run seed -- mark-ready       compose's stack-ready: wait for a ready stack, mark the card ready
import { prepareCardFolder } from './cardFolder.ts';
import { loadSeedConfig } from './config.ts';
import { writeComposeCard } from './composeCard.ts';
import { SeedError } from './errors.ts';
import { failureLine } from './failure.ts';
import { renderHostConfigs } from './hostConfigs.ts';
import { runPruneCommand } from './janitor/command.ts';
import { runKeysCommand } from './keys/command.ts';
import { markReady, readyOptionsFrom } from './markReady.ts';
import { seed } from './seed.ts';
import { readStackCard } from './stackCard.ts';
import { defaultCardPath, withStackDefaults } from './stackEnv.ts';
import { runUpstreamsCommand } from './upstreams/command.ts';

const say = (line: string) => console.log(`[seed] ${line}`);
const [command = 'seed', ...rest] = process.argv.slice(2);
const cardPath = defaultCardPath(process.env);
const compose = process.env.STACK_MODE === 'compose';

try {
  // Before anything reads or writes the card: in compose, become the card folder's owner (cardFolder.ts); a
  // folder that cannot be written is refused naming what to set.
  if (command === 'seed' || command === 'mark-ready') await prepareCardFolder(cardPath, { compose }, say);
  // mark-ready needs no admin session and no seed configuration: only the card and what it checks.
  if (command === 'mark-ready') await markReady(readyOptionsFrom(process.env, cardPath), say);
  else await runCommand();
} catch (error) {
  console.error(failureLine(error, { cardPath, compose }));
  process.exitCode = 1;
}

async function runCommand(): Promise<void> {
  const { env } = await withStackDefaults(process.env);
  const config = loadSeedConfig(env);
  if (command === 'seed') {
    // Compose only (STACK_MODE=compose): the card the native launcher would write; the admin password as
    // resolved by the config (KEYCLOAK_ADMIN_PASSWORD_FILE included).
    await writeComposeCard({ ...env, KEYCLOAK_ADMIN_PASSWORD: config.KEYCLOAK_ADMIN_PASSWORD });
    const card = await seed(config, say, env);
    console.log(renderHostConfigs(card, { only: undefined }));
    say(`done; passwords and the client secret are in ${config.STACK_CARD_PATH} (mode 0600)`);
  } else if (command === 'configs') {
    const card = await readStackCard(config.STACK_CARD_PATH);
    if (!card) throw new SeedError('config_invalid', `no stack card at ${config.STACK_CARD_PATH}`);
    console.log(renderHostConfigs(card, { only: rest[0] }));
  } else if (command === 'keys') {
    await runKeysCommand(config, rest, say);
  } else if (command === 'prune-clients') {
    await runPruneCommand(config, rest, say);
  } else if (command === 'upstreams') {
    await runUpstreamsCommand(config, rest, env, say);
  } else {
    throw new SeedError(
      'config_invalid',
      `unknown command "${command}" (seed, configs, keys, prune-clients, upstreams, mark-ready)`,
    );
  }
}
