// Process entry: config → logger → store → verifier → app → listen; graceful shutdown on SIGINT/SIGTERM.
import { ConfigError, loadConfig, type Config } from './config.ts';
import { tuneHeap } from './heapTuning.ts';
import { createLogger } from './logger.ts';
import { startServer } from './server.ts';

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
tuneHeap(config.heapGrowingPercent);
const logger = createLogger(config.logLevel);
const running = await startServer({ config, logger });

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) {
    logger.warn(`${signal} again: exiting now`);
    process.exit(1);
  }
  stopping = true;
  logger.info(`${signal}: draining and shutting down`);
  await running.stop();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGINT', (signal) => void shutdown(signal));
process.on('SIGTERM', (signal) => void shutdown(signal));
