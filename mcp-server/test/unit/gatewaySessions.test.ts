// Caller sessions of an upstream: bound to their subject, capped per subject and in all, ended with their calls.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gatewaySessions, type GatewaySession } from '../../src/gateway/gatewaySessions.ts';

const LIMITS = { perSubject: 2, total: 3, idleMs: 60_000 };

describe('gateway sessions', () => {
  it('finds a session only for the subject that opened it', () => {
    const sessions = gatewaySessions(() => {}, { limits: LIMITS });
    const mine = sessions.open('alice', (id) => `session:${id}`);
    assert.equal(sessions.find(mine.id, 'alice'), mine);
    assert.equal(sessions.find(mine.id, 'bob'), undefined);
    assert.equal(sessions.find('guessed', 'alice'), undefined);
    assert.ok(mine.id.length >= 32, 'an unguessable id');
    sessions.close();
  });

  it('ends the oldest session of a subject over its cap, and the oldest of all over the total', () => {
    const ended: GatewaySession[] = [];
    const sessions = gatewaySessions((s) => ended.push(s), { limits: LIMITS });
    const a1 = sessions.open('alice', (id) => id);
    const a2 = sessions.open('alice', (id) => id);
    a1.lastUsed -= 10; // a1 is the least recently used
    sessions.open('alice', (id) => id);
    assert.deepEqual(ended, [a1]);
    assert.ok(sessions.find(a2.id, 'alice'));
    sessions.open('bob', (id) => id); // total 3 reached: the next one ends the oldest of all
    a2.lastUsed -= 100;
    sessions.open('carol', (id) => id);
    assert.deepEqual(ended, [a1, a2]);
    assert.equal(sessions.size, 3);
    sessions.close();
  });

  it('ending a session aborts its calls in flight and tells the pool once', () => {
    const ended: GatewaySession[] = [];
    const sessions = gatewaySessions((s) => ended.push(s), { limits: LIMITS });
    const session = sessions.open('alice', (id) => id);
    const call = new AbortController();
    session.inflight.set('7', call);
    sessions.end(session);
    sessions.end(session);
    assert.equal(call.signal.aborted, true);
    assert.equal(ended.length, 1);
    assert.equal(sessions.find(session.id, 'alice'), undefined);
    sessions.close();
  });

  it('starts every id with the replica prefix, so a balancer can route the session to its replica', () => {
    const sessions = gatewaySessions(() => {}, { idPrefix: 'mcp-server-2.' });
    const session = sessions.open('alice', (id) => id);
    assert.match(session.id, /^mcp-server-2\.[A-Za-z0-9_-]{32}$/);
    assert.equal(sessions.find(session.id, 'alice'), session);
    sessions.close();
  });
});
