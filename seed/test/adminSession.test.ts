// openAdminSession (seed/src/adminSession.ts): a seed run that outlives the master realm's access token refreshes it
// at the master realm, where it was issued — not at the target realm, whose token endpoint refuses master's refresh
// token with "invalid_grant" (what failed the first compose `up` on a loaded machine). A stand-in Keycloak on
// loopback issues tokens that are already expired, so the very first admin call must refresh.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { openAdminSession } from '../src/adminSession.ts';
import { loadSeedConfig } from '../src/config.ts';

const jwt = (claims: Record<string, unknown>) =>
  ['{"alg":"none"}', JSON.stringify(claims), '']
    .map((part) => Buffer.from(part).toString('base64url'))
    .join('.');
const now = () => Math.floor(Date.now() / 1000);

describe('openAdminSession', () => {
  let server: Server;
  let baseUrl: string;
  const tokenRequests: string[] = [];
  const REFRESHED = jwt({ exp: now() + 300, n: 'refreshed' });

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const json = (status: number, value: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
        const token = /^\/realms\/([^/]+)\/protocol\/openid-connect\/token$/.exec(req.url ?? '');
        if (req.method === 'POST' && token) {
          const grant = new URLSearchParams(body).get('grant_type');
          tokenRequests.push(`${token[1]} ${grant}`);
          // As Keycloak: a refresh token is valid only at the realm that issued it.
          if (token[1] !== 'master') return json(400, { error: 'invalid_grant' });
          return json(200, {
            // Already inside the client's 5 s margin: the next call must refresh.
            access_token: grant === 'password' ? jwt({ exp: now() + 1 }) : REFRESHED,
            refresh_token: jwt({ exp: now() + 1800 }),
          });
        }
        if (req.method === 'GET' && req.url === '/admin/realms/mcp') {
          if (req.headers.authorization !== `Bearer ${REFRESHED}`) return json(401, { error: 'HTTP 401' });
          return json(200, { realm: 'mcp' });
        }
        json(404, { error: 'not found' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('works on the target realm, and refreshes its token at the master realm', async () => {
    const admin = await openAdminSession(
      loadSeedConfig({
        KEYCLOAK_URL: baseUrl,
        KEYCLOAK_REALM: 'mcp',
        KEYCLOAK_ADMIN_PASSWORD: 'admin-password',
      }),
    );
    const realm = await admin.realms.findOne({ realm: 'mcp' });
    assert.equal(realm?.realm, 'mcp');
    assert.deepEqual(tokenRequests, ['master password', 'master refresh_token']);
    assert.equal(admin.realmName, 'mcp');
  });
});
