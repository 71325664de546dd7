import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RESTART_POLICY, decideRestart, describeExit } from '../native/restartPolicy.ts';

const fast = { ranMs: 2_000, wasReady: true };
const longRun = { ranMs: 10 * 60_000, wasReady: true };

describe('restart policy', () => {
  it('restarts after 1 s, then doubles the pause for each fast crash in a row', () => {
    const delays: number[] = [];
    let streak = 0;
    for (let i = 0; i < 4; i++) {
      const decision = decideRestart(streak, fast);
      assert.equal(decision.action, 'restart');
      if (decision.action === 'restart') delays.push(decision.delayMs);
      streak = decision.fastCrashes;
    }
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000]);
  });

  it('gives up on the 5th crash in a row within 30 s of its start, saying why', () => {
    const decision = decideRestart(4, fast);
    assert.equal(decision.action, 'give up');
    if (decision.action === 'give up') {
      assert.equal(decision.fastCrashes, 5);
      assert.match(decision.reason, /crashed 5 times in a row, each within 30 s of its start/);
    }
  });

  it('a crash after a long run starts a new streak: occasional crashes never add up to giving up', () => {
    const decision = decideRestart(4, longRun);
    assert.deepEqual(decision, { action: 'restart', delayMs: 1_000, fastCrashes: 0 });
  });

  it('a process that never got ready counts as a fast crash however long it tried', () => {
    assert.equal(decideRestart(4, { ranMs: 10 * 60_000, wasReady: false }).action, 'give up');
  });

  it('the pause never exceeds the cap', () => {
    const policy = { ...DEFAULT_RESTART_POLICY, maxFastCrashes: 100 };
    const decision = decideRestart(50, fast, policy);
    assert.deepEqual(decision, { action: 'restart', delayMs: 30_000, fastCrashes: 51 });
  });

  it('names an exit the way the log line does', () => {
    assert.equal(describeExit({ code: null, signal: 'SIGKILL' }), 'signal SIGKILL');
    assert.equal(describeExit({ code: 1, signal: null }), 'code 1');
  });
});
