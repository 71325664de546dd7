import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logThrottle } from '../../src/logThrottle.ts';

describe('logThrottle', () => {
  it('writes the first at once, counts the rest of the period, and reports the count with the next line', () => {
    let clock = 1_000;
    const throttled = logThrottle(10_000, () => clock);
    const written: number[] = [];
    const write = (suppressed: number) => void written.push(suppressed);

    throttled(write);
    clock += 1;
    throttled(write);
    clock += 9_000;
    throttled(write);
    assert.deepEqual(written, [0], 'one line within the period');

    clock += 1_000; // 10,001 ms after the first line
    throttled(write);
    assert.deepEqual(written, [0, 2], 'the next line carries the two left out');
    clock += 20_000;
    throttled(write);
    assert.deepEqual(written, [0, 2, 0], 'nothing left out since');
  });
});
