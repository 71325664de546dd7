// `npm run doctor`: checks a running Keycloak + MCP server for what breaks MCP clients; exit 1 on any failure.
import { SeedError } from '../errors.ts';
import { withStackDefaults } from '../stackEnv.ts';
import { doctorOptions } from './config.ts';
import { formatResults, runDoctor } from './doctor.ts';

try {
  // The card and secrets.json beside it fill in what the environment leaves out (the admin, natively).
  const { env, card } = await withStackDefaults(process.env);
  const options = doctorOptions(env, card);
  console.log(`doctor: MCP server ${options.mcpUrl}, issuer ${options.issuer}`);
  const results = await runDoctor(options);
  console.log(formatResults(results));
  process.exitCode = results.some((r) => r.status === 'fail') ? 1 : 0;
} catch (error) {
  console.error(`doctor: ${error instanceof SeedError ? error.message : (error as Error).message}`);
  process.exitCode = 1;
}
