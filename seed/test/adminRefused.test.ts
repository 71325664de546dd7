// A refused admin login, as Keycloak answers it (HTTP 400 invalid_grant, the same for a wrong password and for an
// admin locked out by brute-force protection): the seed and the doctor say both causes and the way out, and the
// login is tried twice, not more (each try is a failure Keycloak counts toward the lock). The token endpoint here
// is a loopback stand-in that only refuses; the real refusal is covered by seed.e2e and the attack suite.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { openAdminSession } from '../src/adminSession.ts';
import type { SeedConfig } from '../src/config.ts';
import { loggedInAdmin } from '../src/doctor/adminAccess.ts';
import { CheckFailed } from '../src/doctor/check.ts';
import { SeedError } from '../src/errors.ts';

describe('a refused admin login', () => {
  let server: Server;
  let keycloakUrl: string;
  let tokenRequests = 0;
  before(async () => {
    server = createServer((req, res) => {
      if (req.method === 'POST' && req.url === '/realms/master/protocol/openid-connect/token')
        tokenRequests += 1;
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'Invalid user credentials' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    keycloakUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('the seed names the password and the lock, after two tries', async () => {
    tokenRequests = 0;
    const config = {
      KEYCLOAK_URL: keycloakUrl,
      KEYCLOAK_REALM: 'mcp',
      KEYCLOAK_ADMIN_USERNAME: 'admin',
      KEYCLOAK_ADMIN_PASSWORD: 'a-wrong-password',
    } as SeedConfig;
    const error = await openAdminSession(config).then(
      () => assert.fail('logged in'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof SeedError, String(error));
    assert.equal(error.code, 'admin_credentials_rejected');
    assert.match(error.message, /check KEYCLOAK_ADMIN_USERNAME and KEYCLOAK_ADMIN_PASSWORD/);
    assert.match(error.message, /locked for a while after 30 failed logins by anyone/);
    assert.match(error.message, /restarts/);
    assert.equal(tokenRequests, 2);
  });

  it('the doctor fails its check with the same two causes, not a bare invalid_grant', async () => {
    tokenRequests = 0;
    const access = { keycloakUrl, realm: 'mcp', username: 'admin', password: 'a-wrong-password' };
    const error = await loggedInAdmin(access).then(
      () => assert.fail('logged in'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof CheckFailed, String(error));
    assert.match(error.message, /refused the admin login for "admin" \(HTTP 400\)/);
    assert.match(error.fix, /KEYCLOAK_ADMIN_PASSWORD: the password is wrong, or the admin is locked/);
    assert.equal(tokenRequests, 2);
  });
});
