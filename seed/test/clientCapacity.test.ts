// The doctor's client-capacity verdict (issue 11): warn at 80 % of max-clients, fail when full.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeCapacity } from '../src/doctor/clientCapacity.ts';

describe('client capacity', () => {
  it('passes below 80 %, warns from 80 %, fails when full', () => {
    assert.equal(judgeCapacity({ clients: 799, maxClients: 1000 }).status, 'pass');
    const warn = judgeCapacity({ clients: 800, maxClients: 1000 });
    assert.equal(warn.status, 'warn');
    assert.match(warn.detail, /800 of 1000 clients \(80 %\)/);
    assert.match(warn.fix ?? '', /prune-clients/);
    assert.equal(judgeCapacity({ clients: 1000, maxClients: 1000 }).status, 'fail');
  });

  it('warns when the realm has no max-clients policy at all', () => {
    assert.equal(judgeCapacity({ clients: 3, maxClients: undefined }).status, 'warn');
  });
});
