// Picks the token check the configuration asks for: local JWT verification (default) or RFC 7662
// introspection.
import type { Config } from '../config.ts';
import { resourceUrls } from '../gateway/createGateway.ts';
import { accessTokenPolicy } from './accessTokenPolicy.ts';
import { createIntrospectionVerifier } from './introspectAccessToken.ts';
import {
  createAccessTokenVerifier,
  type AccessTokenVerifier,
  type VerifyOutcome,
} from './verifyAccessToken.ts';

export function verifierFromConfig(
  config: Config,
  onOutcome?: (outcome: VerifyOutcome) => void,
): AccessTokenVerifier {
  const policy = accessTokenPolicy({
    allowedClients: config.allowedClients,
    serviceAccountClients: config.serviceAccountClients,
    maxLifetimeSeconds: config.maxTokenLifetimeSeconds,
  });
  // Any resource of this server; each route then checks its own (bearerAuth's `audience`).
  const audience = resourceUrls(config.resourceUrl, config.upstreams);
  if (config.tokenValidation === 'introspection' && config.introspection) {
    return createIntrospectionVerifier({
      ...config.introspection,
      issuer: config.issuer,
      audience,
      clockToleranceSeconds: config.clockToleranceSeconds,
      policy,
      ...(onOutcome ? { onOutcome } : {}),
    });
  }
  return createAccessTokenVerifier({
    issuer: config.issuer,
    jwksUrl: config.jwksUrl,
    moreIssuers: config.issuers.slice(1).map((issuer, n) => ({
      issuer,
      jwksUrl: config.jwksUrls[n + 1] as string,
    })),
    audience,
    algorithms: config.algorithms,
    clockToleranceSeconds: config.clockToleranceSeconds,
    policy,
    jwksCacheMaxAgeMs: config.jwksCacheMaxAgeSeconds * 1000,
    jwksCooldownMs: config.jwksCooldownSeconds * 1000,
    tokenCacheSize: config.tokenCacheSize,
    ...(onOutcome ? { onOutcome } : {}),
  });
}
