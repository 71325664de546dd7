// The browser console at /console/: a static page (mcp-server/console/) where a person logs in with keycloak-js
// (authorization code + PKCE S256) and calls the MCP tools with the bearer token. Served by this server so the
// page and /mcp share an origin (no CORS on /mcp); keycloak-js comes from node_modules, never from a CDN.
//
// Trade-off: the files are read once at startup and kept in memory (a few tens of KB) instead of read per
// request: no path ever reaches the file system, so there is no traversal to defend against.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Middleware } from 'koa';

export const CONSOLE_PATH = '/console/';
/** The public client the seed creates for the console (seed/src/clients/presets.ts; card `clients.console`). */
export const DEFAULT_CONSOLE_CLIENT_ID = 'mcp-console';

export interface ConsoleOptions {
  /** Public issuer, e.g. http://localhost:8080/realms/mcp: keycloak-js needs its base URL and realm. */
  issuer: string;
  /** Canonical MCP URL; its path is where the page sends JSON-RPC (same origin as the page). */
  resourceUrl: string;
  clientId?: string;
}

interface Asset {
  type: string;
  body: Buffer;
}

const CONSOLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'console');

function readAssets(): Map<string, Asset> {
  const file = (path: string, type: string): Asset => ({ type, body: readFileSync(path) });
  const assets = new Map([
    ['', file(join(CONSOLE_DIR, 'index.html'), 'text/html; charset=utf-8')],
    ['index.html', file(join(CONSOLE_DIR, 'index.html'), 'text/html; charset=utf-8')],
    ['console.css', file(join(CONSOLE_DIR, 'console.css'), 'text/css; charset=utf-8')],
    ['console.js', file(join(CONSOLE_DIR, 'console.js'), 'text/javascript; charset=utf-8')],
  ]);
  // The package's main export is lib/keycloak.js (an ES module the page imports as-is). Without it the server
  // still starts; the page then says it could not load keycloak-js instead of the whole server failing.
  const keycloakJs = resolveKeycloakJs();
  if (keycloakJs) assets.set('vendor/keycloak.js', file(keycloakJs, 'text/javascript; charset=utf-8'));
  return assets;
}

function resolveKeycloakJs(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('keycloak-js');
  } catch {
    return undefined;
  }
}

/** Splits `http://host/realms/mcp` into keycloak-js's `url` and `realm`; other issuers cannot use the page. */
export function keycloakFromIssuer(issuer: string): { url: string; realm: string } {
  const match = /^(.*)\/realms\/([^/]+)\/?$/.exec(issuer);
  if (!match?.[1] || !match[2])
    throw new Error(`the console needs a Keycloak issuer (…/realms/<realm>), got ${issuer}`);
  return { url: match[1], realm: decodeURIComponent(match[2]) };
}

export function consoleRoute(options: ConsoleOptions): Middleware {
  const assets = readAssets();
  const keycloak = keycloakFromIssuer(options.issuer);
  const config = Buffer.from(
    JSON.stringify({
      keycloak: { ...keycloak, clientId: options.clientId ?? DEFAULT_CONSOLE_CLIENT_ID },
      mcpPath: new URL(options.resourceUrl).pathname,
      resource: options.resourceUrl,
    }),
  );
  const keycloakOrigin = new URL(keycloak.url).origin;
  // keycloak-js talks to Keycloak's token endpoint (fetch) and navigates to its login page; nothing else leaves.
  const csp = [
    "default-src 'self'",
    `connect-src 'self' ${keycloakOrigin}`,
    `frame-src ${keycloakOrigin}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

  return async function consoleRoute(ctx, next) {
    if (ctx.path === '/console') {
      ctx.redirect(CONSOLE_PATH); // the registered redirect URIs end in a slash
      return;
    }
    if (!ctx.path.startsWith(CONSOLE_PATH) || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) {
      await next();
      return;
    }
    const name = ctx.path.slice(CONSOLE_PATH.length);
    const asset: Asset | undefined =
      name === 'config.json' ? { type: 'application/json', body: config } : assets.get(name);
    if (!asset) {
      await next();
      return;
    }
    ctx.set('Content-Security-Policy', csp);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = asset.type;
    ctx.body = asset.body;
  };
}
