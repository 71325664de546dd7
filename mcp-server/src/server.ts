// Builds and runs the HTTP server from a Config: what main.ts runs, and what the benchmark runs (with
// `overrides` only for its auth-off baseline). Also the graceful drain.
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { createApp, type McpApp } from './app.ts';
import { createLogger } from './logger.ts';
import { verifierFromConfig } from './auth/verifierFromConfig.ts';
import type { AccessTokenVerifier } from './auth/verifyAccessToken.ts';
import type { Config } from './config.ts';
import { listen, urlHost } from './http/listen.ts';
import { startMetricsServer, type MetricsServer } from './http/metricsServer.ts';
import { createMetrics } from './metrics.ts';
import type { UsageStore } from './store/usageStore.ts';
import { createValkeyStore } from './store/valkeyStore.ts';

export interface RunningServer {
  server: Server;
  app: McpApp;
  port: number;
  /** The port of /metrics' own listener (MCP_METRICS_PORT), or null when it is on the MCP listener or off. */
  metricsPort: number | null;
  /** Stops accepting, answers /readyz 503, lets in-flight requests finish (up to the grace), closes Valkey. */
  stop(): Promise<void>;
}

export async function startServer(options: {
  config: Config;
  logger: Logger;
  overrides?: { verifier?: AccessTokenVerifier; store?: UsageStore };
}): Promise<RunningServer> {
  const { config, logger } = options;
  const metrics = createMetrics();
  let store = options.overrides?.store;
  if (!store) {
    const valkey = createValkeyStore({
      url: config.valkeyUrl,
      logger,
      rateLimit: { limit: config.rateLimit, windowSeconds: config.rateLimitWindowSeconds },
      // mcp_valkey_up follows the client's view (each command, each connection change); createApp adds a PING
      // at every scrape.
      onAvailability: (up) => metrics.valkeyAvailability(up),
    });
    // Start even if Valkey is down (the client keeps retrying; /readyz says so): a stack starting in any
    // order must converge without restarts.
    await valkey
      .connect()
      .catch((error: Error) => logger.warn({ reason: error.message }, 'Valkey not reachable yet'));
    store = valkey;
  }
  const verifier =
    options.overrides?.verifier ?? verifierFromConfig(config, (outcome) => metrics.verifyOutcome(outcome));
  // Its own logger at info, so LOG_LEVEL=warn keeps the audit trail; `silent` turns both off.
  const audit = createLogger(config.logLevel === 'silent' ? 'silent' : 'info').child({ component: 'audit' });
  const app = createApp({ config, verifier, store, logger, audit, metrics });
  // Node's own clock on receiving a whole request (headers and body): a client that trickles a body, or never
  // finishes it, gets 408 and a closed socket instead of holding the connection (Node's default is 300 s).
  const bodyTimeoutMs = config.bodyTimeoutSeconds * 1000;
  const server = createServer(
    {
      requestTimeout: bodyTimeoutMs,
      headersTimeout: Math.min(bodyTimeoutMs, 60_000),
      // How often Node looks for requests past those limits (default 30 s would double a 30 s timeout).
      connectionsCheckingInterval: Math.min(1_000, bodyTimeoutMs),
    },
    app.callback(),
  );
  // Keep-alive sockets must outlive a proxy's idle timeout, or the proxy reuses a socket we just closed.
  server.keepAliveTimeout = 65_000;

  let port: number;
  try {
    port = await listen(server, config.port, config.host);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    logger.fatal({ err: error }, `cannot listen on ${config.host}:${config.port}: ${reason}`);
    await store.close().catch(() => {});
    throw error;
  }
  logger.info(
    `MCP server listening on http://${urlHost(config.host)}:${port} (resource ${config.resourceUrl})`,
  );
  let metricsServer: MetricsServer | undefined;
  if (config.metricsEnabled && config.metricsListener) {
    try {
      metricsServer = await startMetricsServer(metrics.registry, config.metricsListener);
    } catch (error) {
      const { host: h, port: p } = config.metricsListener;
      logger.fatal({ err: error }, `cannot listen on ${h}:${p} for /metrics (MCP_METRICS_PORT)`);
      server.close();
      await store.close().catch(() => {});
      throw error;
    }
    logger.info(`metrics on http://${urlHost(config.metricsListener.host)}:${metricsServer.port}/metrics`);
  }

  return {
    server,
    app,
    port,
    metricsPort: metricsServer?.port ?? null,
    async stop() {
      app.drain();
      // Stop accepting, let in-flight requests finish, drop idle keep-alive sockets; cut the rest after
      // the grace period.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceSeconds * 1000);
      await closed;
      clearTimeout(grace);
      await app.close().catch(() => {});
      await metricsServer?.close();
      await store.close().catch((error: Error) => logger.warn({ reason: error.message }, 'closing Valkey'));
    },
  };
}
