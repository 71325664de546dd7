// A stand-in authorization server for unit tests: RSA keys made by jose, a JWKS served over real HTTP on an
// ephemeral loopback port (so the verifier's production path, createRemoteJWKSet, is what gets tested), and a
// token minter with Keycloak-shaped defaults.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';

export const ISSUER = 'https://issuer.test/realms/mcp';
export const AUDIENCE = 'http://localhost:3000/mcp';

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

export interface TestIssuer {
  jwksUrl: string;
  /** How many times the JWKS was fetched. */
  readonly fetches: number;
  /** When true the JWKS endpoint answers 500. */
  down: boolean;
  /** A fresh key pair, not (yet) published. */
  newKey(kid: string): Promise<SigningKey>;
  publish(key: SigningKey): void;
  /** Removes a key (by kid) from the published set, as a key rotation that retires a key does. */
  unpublish(kid: string): void;
  /** A signed access token; `claims` override the defaults, an `undefined` value removes a claim. */
  sign(
    claims?: Record<string, unknown>,
    options?: { header?: Record<string, unknown>; key?: SigningKey },
  ): Promise<string>;
  publicKeyPem(): Promise<string>;
  close(): Promise<void>;
}

export function now(): number {
  return Math.floor(Date.now() / 1000);
}

export function defaultClaims(): JWTPayload {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'f3b1c2d4-0000-4000-8000-000000000001',
    azp: 'vscode-client',
    typ: 'Bearer',
    sid: 'c0ffee00-0000-4000-8000-000000000001',
    preferred_username: 'alice',
    scope: 'openid profile mcp:tools',
    iat: now(),
    exp: now() + 300,
  };
}

async function makeKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicKey, jwk };
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const primary = await makeKey('key-1');
  const published: JWK[] = [primary.jwk];
  let fetches = 0;
  const state = { down: false };

  const server: Server = createServer((_req, res) => {
    fetches++;
    if (state.down) {
      res.writeHead(500).end('{}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    jwksUrl: `http://127.0.0.1:${port}/realms/mcp/protocol/openid-connect/certs`,
    get fetches() {
      return fetches;
    },
    get down() {
      return state.down;
    },
    set down(value: boolean) {
      state.down = value;
    },
    newKey: makeKey,
    publish(key) {
      published.push(key.jwk);
    },
    unpublish(kid) {
      const index = published.findIndex((jwk) => jwk.kid === kid);
      if (index >= 0) published.splice(index, 1);
    },
    async sign(claims = {}, options = {}) {
      const key = options.key ?? primary;
      const payload: Record<string, unknown> = { ...defaultClaims() };
      for (const [name, value] of Object.entries(claims)) {
        if (value === undefined) delete payload[name];
        else payload[name] = value;
      }
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT', ...options.header } as { alg: string })
        .sign(key.privateKey);
    },
    publicKeyPem: () => exportSPKI(primary.publicKey),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** An unsigned token (`alg: none`), built by hand since jose refuses to make one. */
export function unsecuredToken(claims: JWTPayload = defaultClaims()): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

/** Same header and signature, payload changed: what a forger without the key can do. */
export function tamperPayload(token: string, change: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  return `${header}.${Buffer.from(JSON.stringify({ ...claims, ...change })).toString('base64url')}.${signature}`;
}
