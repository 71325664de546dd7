// adminLogin: the processes of one machine take turns to log in as the admin (Keycloak refuses a login while another
// of the same user is in flight), a refused login is retried once, and anything else is not retried. A wrong
// password must cost few counted failures: with brute-force protection, 30 lock the admin out.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminLogin, turnLockPath } from '../src/adminLogin.ts';

const refused = (status: number) => Object.assign(new Error('invalid_grant'), { response: { status } });
const credentials = { username: 'admin', password: 'secret-password' };

/** A client whose auth() fails with `failures` in turn, then succeeds; counts the calls and their overlap. */
function client(failures: Error[], authMs = 0) {
  const calls: unknown[] = [];
  const state = { running: 0, mostAtOnce: 0 };
  return {
    baseUrl: 'http://127.0.0.1:8080',
    calls,
    state,
    async auth(request: unknown) {
      calls.push(request);
      state.mostAtOnce = Math.max(state.mostAtOnce, ++state.running);
      await new Promise((resolve) => setTimeout(resolve, authMs));
      state.running -= 1;
      const failure = failures.shift();
      if (failure) throw failure;
    },
  };
}

describe('adminLogin', () => {
  let lockDir: string;
  before(async () => {
    lockDir = await mkdtemp(join(tmpdir(), 'admin-login-'));
  });
  after(async () => {
    await rm(lockDir, { recursive: true, force: true });
  });

  it('logs in with admin-cli and the password grant, and leaves no lock file behind', async () => {
    const c = client([]);
    await adminLogin(c, credentials, { lockDir });
    assert.deepEqual(c.calls, [{ grantType: 'password', clientId: 'admin-cli', ...credentials }]);
    assert.deepEqual(await readdir(lockDir), []);
  });

  it('retries a refused login (400 or 401) once, and succeeds when the refusal passes', async () => {
    for (const status of [400, 401]) {
      const c = client([refused(status)]);
      await adminLogin(c, credentials, { lockDir, retryDelaysMs: [1] });
      assert.equal(c.calls.length, 2);
    }
  });

  it('a wrong password costs two counted failures per run, not four (eight runs of a typo locked the admin)', async () => {
    const c = client(Array.from({ length: 10 }, () => refused(400)));
    await assert.rejects(adminLogin(c, credentials, { lockDir, retryDelaysMs: [1] }), /invalid_grant/);
    assert.equal(c.calls.length, 2);
    assert.deepEqual(await readdir(lockDir), [], 'the turn is released after a failure too');
  });

  it('does not retry anything else (Keycloak down, a server error)', async () => {
    for (const error of [refused(500), new TypeError('fetch failed')]) {
      const c = client([error]);
      await assert.rejects(adminLogin(c, credentials, { lockDir, retryDelaysMs: [1] }));
      assert.equal(c.calls.length, 1);
    }
  });

  it('logins of the same admin at the same Keycloak take turns; a lock left by a dead process is taken over', async () => {
    const c = client([], 20);
    await Promise.all(Array.from({ length: 6 }, () => adminLogin(c, credentials, { lockDir })));
    assert.equal(c.calls.length, 6);
    assert.equal(c.state.mostAtOnce, 1, 'two logins of one admin were in flight at once');

    // Another Keycloak (or user) is another turn: no waiting on each other.
    const other = { ...client([], 20), baseUrl: 'http://127.0.0.1:18080' };
    const started = Date.now();
    await Promise.all([adminLogin(c, credentials, { lockDir }), adminLogin(other, credentials, { lockDir })]);
    assert.equal(other.calls.length, 1);
    assert.ok(Date.now() - started < 5_000);

    // A lock file left by a process that died mid-login: older than 15 s, it holds nobody up.
    const lock = turnLockPath(lockDir, c.baseUrl, credentials.username);
    await writeFile(lock, '');
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(lock, longAgo, longAgo);
    const afterDeath = Date.now();
    await adminLogin(c, credentials, { lockDir });
    assert.ok(Date.now() - afterDeath < 5_000, 'waited on a stale lock');
    assert.deepEqual(await readdir(lockDir), []);
  });
});
