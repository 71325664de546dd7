// adminLogin retries a refused admin login briefly (Keycloak refuses a login while another of the same user is
// in flight) and gives up on anything else, or when the refusals go on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adminLogin } from '../src/adminLogin.ts';

const refused = (status: number) => Object.assign(new Error('invalid_grant'), { response: { status } });
const credentials = { username: 'admin', password: 'secret-password' };

/** A client whose auth() fails with `failures` in turn, then succeeds; counts the calls. */
function client(failures: Error[]) {
  const calls: unknown[] = [];
  return {
    calls,
    async auth(request: unknown) {
      calls.push(request);
      const failure = failures.shift();
      if (failure) throw failure;
    },
  };
}

describe('adminLogin', () => {
  it('logs in with admin-cli and the password grant', async () => {
    const c = client([]);
    await adminLogin(c, credentials, []);
    assert.deepEqual(c.calls, [{ grantType: 'password', clientId: 'admin-cli', ...credentials }]);
  });

  it('retries a refused login (400 or 401) and succeeds when the refusal passes', async () => {
    const c = client([refused(400), refused(401)]);
    await adminLogin(c, credentials, [1, 1, 1]);
    assert.equal(c.calls.length, 3);
  });

  it('gives up after the last retry with the refusal itself', async () => {
    const c = client([refused(400), refused(400), refused(400), refused(400)]);
    await assert.rejects(adminLogin(c, credentials, [1, 1, 1]), /invalid_grant/);
    assert.equal(c.calls.length, 4);
  });

  it('does not retry anything else (Keycloak down, a server error)', async () => {
    for (const error of [refused(500), new TypeError('fetch failed')]) {
      const c = client([error]);
      await assert.rejects(adminLogin(c, credentials, [1, 1, 1]));
      assert.equal(c.calls.length, 1);
    }
  });
});
