// Entry of the seed (native launcher, compose job, `npm run seed`): exit 0 on success, 1 otherwise.
//   npm run seed                     converge users, clients and host presets; print host configurations
//   npm run seed -- configs [host]   print the ready-to-paste host configurations only
//   npm run seed -- keys …           signing-key rotation (see `npm run seed -- keys help`)
//   npm run seed -- prune-clients    delete self-registered clients unused for a day (--unused-for, --every)
//   npm run seed -- upstreams        the realm side of MCP_UPSTREAMS_FILE only (--file, --base-url)
import { httpStatusOf } from './adminSession.ts';
import { loadSeedConfig } from './config.ts';
import { writeComposeCard } from './composeCard.ts';
import { SeedError } from './errors.ts';
import { renderHostConfigs } from './hostConfigs.ts';
import { runPruneCommand } from './janitor/command.ts';
import { runKeysCommand } from './keys/command.ts';
import { seed } from './seed.ts';
import { readStackCard } from './stackCard.ts';
import { withStackDefaults } from './stackEnv.ts';
import { runUpstreamsCommand } from './upstreams/command.ts';

const say = (line: string) => console.log(`[seed] ${line}`);

try {
  const [command = 'seed', ...rest] = process.argv.slice(2);
  const { env } = await withStackDefaults(process.env);
  const config = loadSeedConfig(env);
  if (command === 'seed') {
    await writeComposeCard(env); // compose only (STACK_MODE=compose): the card the native launcher would write
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
      `unknown command "${command}" (seed, configs, keys, prune-clients, upstreams)`,
    );
  }
} catch (error) {
  if (error instanceof SeedError) {
    console.error(`[seed] error (${error.code}): ${error.message}`);
  } else {
    const status = httpStatusOf(error);
    console.error(
      `[seed] error: Keycloak request failed${status ? ` with HTTP ${status}` : ''}: ${(error as Error).message}`,
    );
  }
  process.exitCode = 1;
}
