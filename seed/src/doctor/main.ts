// `npm run doctor`: checks a running Keycloak + MCP server for what breaks MCP clients; exit 1 on any failure.
import { SeedError } from '../errors.ts';
import { readStackCard } from '../stackCard.ts';
import { defaultCardPath } from '../stackEnv.ts';
import { doctorOptions } from './config.ts';
import { formatResults, runDoctor } from './doctor.ts';

try {
  const card = await readStackCard(defaultCardPath(process.env)).catch(() => undefined);
  const options = doctorOptions(process.env, card);
  console.log(`doctor: MCP server ${options.mcpUrl}, issuer ${options.issuer}`);
  const results = await runDoctor(options);
  console.log(formatResults(results));
  process.exitCode = results.some((r) => r.status === 'fail') ? 1 : 0;
} catch (error) {
  console.error(`doctor: ${error instanceof SeedError ? error.message : (error as Error).message}`);
  process.exitCode = 1;
}
