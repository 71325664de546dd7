// The Koa application (no listen): every middleware and route, in order, in one place.
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import Koa from 'koa';
import Router from 'koa-router';
import type { Logger } from 'pino';
import { bearerAuth } from './auth/bearerAuth.ts';
import {
  protectedResourceMetadata,
  resourceMetadataPath,
  resourceMetadataUrl,
} from './auth/protectedResource.ts';
import type { AccessTokenVerifier } from './auth/verifyAccessToken.ts';
import type { Config } from './config.ts';
import { accessLog } from './http/accessLog.ts';
import { consoleRoute } from './http/console.ts';
import type { AppState } from './http/appState.ts';
import { errorHandler } from './http/errorHandler.ts';
import { healthz, readyz } from './http/health.ts';
import { notFound } from './http/notFound.ts';
import { publicCors } from './http/publicCors.ts';
import { createMcpServer } from './mcp/createMcpServer.ts';
import { mcpMethodNotAllowed, mcpRoute } from './mcp/mcpRoute.ts';
import type { UsageStore } from './store/usageStore.ts';

export interface AppDeps {
  config: Config;
  verifier: AccessTokenVerifier;
  store: UsageStore;
  logger: Logger;
}

/** Scope for admin tools (DESIGN §3); advertised so clients know it exists, granted only to admins. */
export const ADMIN_SCOPE = 'mcp:admin';
export const RESOURCE_NAME = 'mcp-keycloak-stack MCP server';

export function createApp({ config, verifier, store, logger }: AppDeps): Koa<AppState> {
  const metadataUrl = resourceMetadataUrl(config.resourceUrl);
  const metadata = protectedResourceMetadata({
    resource: config.resourceUrl,
    issuer: config.issuer,
    scopesSupported: [config.requiredScope, ADMIN_SCOPE],
    resourceName: RESOURCE_NAME,
  });
  // Served at the path-inserted form of our resource URL (what clients derive, RFC 9728 §3.1), at the form for
  // this server's own /mcp path (when a proxy maps another public path onto it), and at the root form.
  const metadataPaths = [
    ...new Set([
      resourceMetadataPath(config.resourceUrl),
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]),
  ];
  // One Ajv for the process: building it is most of the cost of a per-request McpServer (DESIGN §7).
  const jsonSchemaValidator = new AjvJsonSchemaValidator();

  const router = new Router<AppState>();
  router.get('/healthz', healthz());
  router.get('/readyz', readyz({ store, verifier }));
  for (const path of metadataPaths) {
    router.get(path, publicCors(), async function protectedResourceMetadata(ctx) {
      ctx.body = metadata;
    });
    router.options(path, publicCors());
  }
  router.post(
    '/mcp',
    bearerAuth({ verifier, resourceMetadataUrl: metadataUrl, requiredScope: config.requiredScope }),
    mcpRoute({ createServer: () => createMcpServer({ store, logger, jsonSchemaValidator }) }),
  );
  router.get('/mcp', mcpMethodNotAllowed());
  router.delete('/mcp', mcpMethodNotAllowed());

  const app = new Koa<AppState>();
  app.use(accessLog({ logger })); // first: sees every request, including the ones that fail below
  app.use(errorHandler());
  app.use(notFound());
  app.use(consoleRoute({ issuer: config.issuer, resourceUrl: config.resourceUrl })); // browser console
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
