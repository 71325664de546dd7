// Entry of the one-shot seed job (native launcher and compose): exit 0 when the realm is seeded, 1 otherwise.
import { httpStatusOf } from './adminSession.ts';
import { loadSeedConfig } from './config.ts';
import { writeComposeCard } from './composeCard.ts';
import { SeedError } from './errors.ts';
import { seed } from './seed.ts';

const say = (line: string) => console.log(`[seed] ${line}`);

try {
  const config = loadSeedConfig();
  await writeComposeCard(); // compose only (STACK_MODE=compose): the card the native launcher would write
  await seed(config, say);
  say(`done; passwords and the client secret are in ${config.STACK_CARD_PATH} (mode 0600)`);
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
