// The Koa application (no listen): every middleware and route, in order, in one place.
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import Koa from 'koa';
import Router from 'koa-router';
import type { Logger } from 'pino';
import { accessRule } from './auth/authorize.ts';
import { bearerAuth } from './auth/bearerAuth.ts';
import { protectedResource } from './auth/protectedResource.ts';
import type { AccessTokenVerifier } from './auth/verifyAccessToken.ts';
import type { Config } from './config.ts';
import { accessLog } from './http/accessLog.ts';
import { consoleRoute } from './http/console.ts';
import type { AppState } from './http/appState.ts';
import { errorHandler } from './http/errorHandler.ts';
import { healthz, readyz } from './http/health.ts';
import { httpMetrics } from './http/httpMetrics.ts';
import { mcpCors } from './http/mcpCors.ts';
import { notFound } from './http/notFound.ts';
import { publicCors } from './http/publicCors.ts';
import { unknownMethod } from './http/unknownMethod.ts';
import { mountGateway } from './gateway/createGateway.ts';
import { tokenExchanger } from './gateway/tokenExchange.ts';
import { createMcpServer } from './mcp/createMcpServer.ts';
import { createMcpRoute, mcpMethodNotAllowed } from './mcp/mcpRoute.ts';
import { ADMIN_SCOPE } from './mcp/toolAccess.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import type { UsageStore } from './store/usageStore.ts';

export { ADMIN_SCOPE };

export interface AppDeps {
  config: Config;
  verifier: AccessTokenVerifier;
  store: UsageStore;
  logger: Logger;
  /** The audit trail of tool calls (gateway/audit.ts); default: `logger`. */
  audit?: Logger;
  /** A fresh registry per app unless given (tests pass one without default process metrics). */
  metrics?: Metrics;
}

export interface McpApp extends Koa<AppState> {
  metrics: Metrics;
  /** Start answering /readyz with 503 (draining) and end the MCP server after in-flight calls. */
  drain(): void;
  close(): Promise<void>;
}

export const RESOURCE_NAME = 'mcp-keycloak-stack MCP server';

export function createApp({ config, verifier, store, logger, audit, metrics: given }: AppDeps): McpApp {
  const metrics = given ?? createMetrics();
  // mcp_valkey_up is measured at every scrape with the store's own PING (metrics.ts), whatever the traffic.
  metrics.probeValkeyWith(() => store.ping());
  const resource = protectedResource({
    resource: config.resourceUrl,
    issuers: config.issuers,
    scopesSupported: [config.requiredScope, ADMIN_SCOPE],
    resourceName: RESOURCE_NAME,
  });
  // What every /mcp request needs, decided by bearerAuth; a tool's rule adds only what this one lacks.
  const requestRule = accessRule({
    scopes: [config.requiredScope],
    insufficientScope: `the token lacks the ${config.requiredScope} scope`,
  });
  // One McpServer for the process, fed through MultiplexTransport by the route (why: multiplexTransport.ts).
  const { server, toolAccess, tools } = createMcpServer({
    store,
    logger,
    requiredScope: config.requiredScope,
    jsonSchemaValidator: new AjvJsonSchemaValidator(),
  });
  const mcp = createMcpRoute({
    server,
    toolAccess,
    tools,
    requestRule,
    challenge: resource.challenge,
    store,
    metrics,
    storeFailureMode: config.storeFailureMode,
    maxBodyBytes: config.maxBodyBytes,
  });
  mcp.start().catch((error: Error) => logger.fatal({ err: error }, 'MCP server failed to start'));
  let draining = false;

  const router = new Router<AppState>();
  const gateway = mountGateway(router, {
    upstreams: config.upstreams,
    builtinResourceUrl: config.resourceUrl,
    issuers: config.issuers,
    verifier,
    store,
    metrics,
    logger,
    audit: audit ?? logger,
    storeFailureMode: config.storeFailureMode,
    maxBodyBytes: config.maxBodyBytes,
    allowedOrigins: config.allowedOrigins,
    replicaId: config.replicaId,
    ...(config.tokenExchange ? { exchange: tokenExchanger(config.tokenExchange) } : {}),
  });
  router.get('/healthz', healthz());
  router.get(
    '/readyz',
    readyz({
      store,
      verifier,
      // Named as verifierFromConfig picks the verifier: introspection only when configured for it.
      tokenCheck:
        config.tokenValidation === 'introspection' && config.introspection ? 'introspection' : 'jwks',
      storeFailureMode: config.storeFailureMode,
      draining: () => draining,
      ...(config.upstreams.length > 0 ? { upstreams: () => gateway.report() } : {}),
    }),
  );
  // On the MCP listener only when no listener of its own is configured (MCP_METRICS_PORT; server.ts).
  if (config.metricsEnabled && config.metricsListener === null) {
    router.get('/metrics', async function metricsRoute(ctx) {
      ctx.set('Content-Type', metrics.registry.contentType);
      ctx.body = await metrics.registry.metrics();
    });
  }
  for (const path of resource.metadataPaths) {
    router.get(path, publicCors(), async function protectedResourceMetadata(ctx) {
      ctx.body = resource.metadata;
    });
    router.options(path, publicCors());
  }
  const cors = mcpCors({ allowedOrigins: config.allowedOrigins });
  router.options('/mcp', cors);
  router.post(
    '/mcp',
    cors,
    bearerAuth({
      verifier,
      rule: requestRule,
      // The verifier accepts every resource of this server; /mcp only tokens for the built-in one.
      audience: config.resourceUrl,
      challenge: resource.challenge,
      onOutcome: (outcome) => metrics.authOutcomes.inc({ outcome }),
    }),
    mcp.post,
  );
  router.get('/mcp', cors, mcpMethodNotAllowed());
  router.delete('/mcp', cors, mcpMethodNotAllowed());

  const app = new Koa<AppState>({ proxy: config.trustProxy });
  app.use(accessLog({ logger })); // first: sees every request, including the ones that fail below
  app.use(async function closeWhileDraining(ctx, next) {
    await next();
    // Checked once the answer is ready, so requests in flight when the drain began get it too: the client's
    // keep-alive socket closes after this response instead of holding the process until the grace ends.
    if (draining) ctx.set('Connection', 'close');
  });
  if (config.metricsEnabled) app.use(httpMetrics({ metrics }));
  app.use(errorHandler());
  app.use(notFound());
  app.use(unknownMethod());
  app.use(consoleRoute({ issuer: config.issuer, resourceUrl: config.resourceUrl })); // browser console
  app.use(router.routes());
  app.use(router.allowedMethods());
  return Object.assign(app, {
    metrics,
    drain() {
      draining = true;
    },
    close: async () => {
      await gateway.close();
      await mcp.close();
    },
  });
}
