// RFC 7662 introspection mode against a local stand-in authorization server (real HTTP on loopback).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AuthError, type AuthErrorCode } from '../../src/auth/errors.ts';
import { createIntrospectionVerifier } from '../../src/auth/introspectAccessToken.ts';
import { AUDIENCE, ISSUER, now } from './support/testIssuer.ts';

async function rejectsWith(promise: Promise<unknown>, code: AuthErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AuthError, String(error));
    assert.equal(error.code, code, error.message);
    return true;
  });
}

describe('createIntrospectionVerifier (RFC 7662)', () => {
  let server: Server;
  let url: string;
  const answers = new Map<string, Record<string, unknown> | number>();
  const seen: { authorization?: string; body: string }[] = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({
          ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
          body,
        });
        const token = new URLSearchParams(body).get('token') ?? '';
        const answer = answers.get(token) ?? { active: false };
        if (typeof answer === 'number') res.writeHead(answer).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const verifier = () =>
    createIntrospectionVerifier({
      url,
      clientId: 'http://localhost:3000/mcp',
      clientSecret: 'secret',
      issuer: ISSUER,
      audience: AUDIENCE,
      clockToleranceSeconds: 0,
    });
  const active = (extra: Record<string, unknown> = {}) => ({
    active: true,
    iss: ISSUER,
    aud: [AUDIENCE, 'account'],
    sub: 'user-1',
    typ: 'Bearer',
    sid: 'session-1',
    azp: 'vscode',
    // Keycloak's introspection answer names the client for every token (RFC 7662 §2.2), users' included.
    client_id: 'vscode',
    username: 'alice',
    scope: 'openid mcp:tools',
    exp: now() + 60,
    realm_access: { roles: ['mcp-admin'] },
    ...extra,
  });

  it('an active token → the caller, asked with client authentication and token_type_hint', async () => {
    answers.set('good', active());
    const verified = await verifier()('good');
    assert.equal(verified.subject, 'user-1');
    assert.deepEqual(verified.roles, ['mcp-admin']);
    const last = seen.at(-1);
    assert.match(last?.authorization ?? '', /^Basic /);
    assert.equal(new URLSearchParams(last?.body).get('token_type_hint'), 'access_token');
  });

  it('inactive → token_inactive; another issuer, another audience, expired → their codes', async () => {
    await rejectsWith(verifier()('unknown'), 'token_inactive');
    answers.set('iss', active({ iss: 'https://elsewhere' }));
    await rejectsWith(verifier()('iss'), 'issuer_mismatch');
    answers.set('aud', active({ aud: 'account' }));
    await rejectsWith(verifier()('aud'), 'audience_mismatch');
    answers.set('exp', active({ exp: now() - 5 }));
    await rejectsWith(verifier()('exp'), 'token_expired');
  });

  it('the access-token policy as in JWT mode: an ID token and a foreign service account are refused', async () => {
    answers.set('id-token', active({ typ: 'ID' }));
    await rejectsWith(verifier()('id-token'), 'token_type_not_allowed');
    // Keycloak's service account: no session, the reserved username; its client is not on the (empty) list.
    answers.set(
      'robot',
      active({ sid: undefined, azp: 'robot', client_id: 'robot', username: 'service-account-robot' }),
    );
    await rejectsWith(verifier()('robot'), 'client_not_allowed');
  });

  it('the endpoint failing → introspection_unavailable (answered 503, not 401)', async () => {
    answers.set('boom', 500);
    await rejectsWith(verifier()('boom'), 'introspection_unavailable');
  });
});
