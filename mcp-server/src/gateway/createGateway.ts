// Every upstream of the upstreams file as its own protected resource on the router: its RFC 9728 metadata at
// the path-inserted URL, its own audience and scopes checked by bearerAuth, its challenge naming its
// metadata, its tool policy, sessions and upstream connections.
import type Router from 'koa-router';
import type { Logger } from 'pino';
import { accessRule } from '../auth/authorize.ts';
import { bearerAuth } from '../auth/bearerAuth.ts';
import { protectedResource } from '../auth/protectedResource.ts';
import type { AccessTokenVerifier } from '../auth/verifyAccessToken.ts';
import type { AppState } from '../http/appState.ts';
import { mcpCors } from '../http/mcpCors.ts';
import { publicCors } from '../http/publicCors.ts';
import type { Metrics } from '../metrics.ts';
import type { UsageStore } from '../store/usageStore.ts';
import { connectionPool, type ConnectionPool } from './connectionPool.ts';
import { gatewaySessions, type GatewaySessions } from './gatewaySessions.ts';
import { toolPolicy } from './toolPolicy.ts';
import type { ExchangeToken } from './tokenExchange.ts';
import { upstreamResourceUrl, type UpstreamSpec } from './upstreamsFile.ts';
import { upstreamRoute } from './upstreamRoute.ts';

export interface GatewayOptions {
  upstreams: readonly UpstreamSpec[];
  /** The built-in resource URL; upstream URLs share its origin (upstreamResourceUrl). */
  builtinResourceUrl: string;
  issuers: readonly string[];
  verifier: AccessTokenVerifier;
  store: UsageStore;
  metrics: Metrics;
  logger: Logger;
  audit: Logger;
  storeFailureMode: 'closed' | 'open';
  maxBodyBytes: number;
  allowedOrigins: readonly string[];
  exchange?: ExchangeToken;
  /** MCP_REPLICA_ID: session ids start with `<replicaId>.` so a balancer can route each to its replica. */
  replicaId?: string | null;
}

export interface Gateway {
  /** Per upstream, for /readyz: its sessions and their states, never its address. */
  report(): Record<string, unknown>;
  close(): Promise<void>;
}

export function mountGateway(router: Router<AppState>, options: GatewayOptions): Gateway {
  const mounted: { spec: UpstreamSpec; pool: ConnectionPool; sessions: GatewaySessions }[] = [];
  for (const spec of options.upstreams) {
    const resourceUrl = upstreamResourceUrl(options.builtinResourceUrl, spec.path);
    const ruleScopes = spec.tools.rules.flatMap((rule) => rule.scopes);
    const resource = protectedResource({
      resource: resourceUrl,
      issuers: options.issuers,
      scopesSupported: [...new Set([...spec.scopes, ...ruleScopes])],
      resourceName: spec.title ?? `${spec.name} (through mcp-keycloak-stack)`,
    });
    const requestRule = accessRule({
      scopes: spec.scopes,
      insufficientScope: `the token lacks the scopes of ${spec.name}: ${spec.scopes.join(' ')}`,
    });
    const pool = connectionPool(spec, options.logger);
    const sessions = gatewaySessions((session) => pool.release(session.key), {
      idPrefix: options.replicaId ? `${options.replicaId}.` : '',
    });
    const route = upstreamRoute({
      spec,
      pool,
      sessions,
      policy: toolPolicy(spec, requestRule),
      requestRule,
      challenge: resource.challenge,
      store: options.store,
      metrics: options.metrics,
      storeFailureMode: options.storeFailureMode,
      maxBodyBytes: options.maxBodyBytes,
      audit: options.audit,
      ...(options.exchange ? { exchange: options.exchange } : {}),
    });
    // Only the path-inserted form (RFC 9728 §3.1): the root and /mcp forms are the built-in resource's.
    const metadataPath = resource.metadataPaths[0] as string;
    router.get(metadataPath, publicCors(), async function upstreamMetadata(ctx) {
      ctx.body = resource.metadata;
    });
    router.options(metadataPath, publicCors());
    const cors = mcpCors({ allowedOrigins: options.allowedOrigins });
    const auth = bearerAuth({
      verifier: options.verifier,
      rule: requestRule,
      audience: resourceUrl,
      challenge: resource.challenge,
      onOutcome: (outcome) => options.metrics.authOutcomes.inc({ outcome }),
    });
    router.options(spec.path, cors);
    router.post(spec.path, cors, auth, route.post);
    router.delete(spec.path, cors, auth, route.delete);
    router.get(spec.path, cors, route.get);
    mounted.push({ spec, pool, sessions });
  }
  return {
    report() {
      return Object.fromEntries(
        mounted.map(({ spec, pool, sessions }) => [
          spec.name,
          { transport: spec.transport.type, callerSessions: sessions.size, ...pool.report() },
        ]),
      );
    },
    async close() {
      for (const { sessions } of mounted) sessions.close();
      await Promise.all(mounted.map(({ pool }) => pool.close()));
    },
  };
}

/** Every resource the server answers for: the built-in one first, then each upstream's. */
export function resourceUrls(builtinResourceUrl: string, upstreams: readonly UpstreamSpec[]): string[] {
  return [builtinResourceUrl, ...upstreams.map((u) => upstreamResourceUrl(builtinResourceUrl, u.path))];
}
