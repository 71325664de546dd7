// Process entry: config → logger → store → verifier → app → listen; graceful shutdown on SIGINT/SIGTERM.
import { createServer } from 'node:http';
import { createApp } from './app.ts';
import { createAccessTokenVerifier } from './auth/verifyAccessToken.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger } from './logger.ts';
import { createValkeyStore } from './store/valkeyStore.ts';

const SHUTDOWN_GRACE_MS = 3_000;

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // One line a person can act on; a stack trace would only bury the variable name.
    console.error(`mcp-server: invalid configuration: ${error.message}`);
    process.exit(2);
  }
}

const config = readConfig();
const logger = createLogger(config.logLevel);

const store = createValkeyStore({ url: config.valkeyUrl, logger });
// Start even if Valkey is down (the client keeps retrying; /readyz says so): a stack starting in any order
// must converge without restarts.
await store
  .connect()
  .catch((error: Error) => logger.warn({ reason: error.message }, 'Valkey not reachable yet'));

const verifier = createAccessTokenVerifier({
  issuer: config.issuer,
  audience: config.resourceUrl,
  jwksUrl: config.jwksUrl,
  algorithms: config.algorithms,
  clockToleranceSeconds: config.clockToleranceSeconds,
});

const app = createApp({ config, verifier, store, logger });
const server = createServer(app.callback());

server.on('error', (error: NodeJS.ErrnoException) => {
  logger.fatal(
    { err: error },
    `cannot listen on ${config.host}:${config.port}: ${error.code ?? error.message}`,
  );
  void store.close().finally(() => process.exit(1));
});

server.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  logger.info(`MCP server listening on http://${host}:${port} (resource ${config.resourceUrl})`);
});

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) {
    logger.warn(`${signal} again: exiting now`);
    process.exit(1);
  }
  stopping = true;
  logger.info(`${signal}: shutting down`);
  // Stop accepting, let in-flight requests finish, drop idle keep-alive sockets; cut the rest after the grace.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const grace = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  await closed;
  clearTimeout(grace);
  await store.close().catch((error: Error) => logger.warn({ reason: error.message }, 'closing Valkey'));
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGINT', (signal) => void shutdown(signal));
process.on('SIGTERM', (signal) => void shutdown(signal));
