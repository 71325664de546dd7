import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tapFailures } from './support/tapFailures.ts';

// The shape node --test writes (its TAP reporter), cut down: a pass, a failure with a multi-line error, a TODO
// failure and the suite that only counts failed subtests.
const TAP = `TAP version 13
# Subtest: drills
    # Subtest: passes
    ok 1 - passes
      ---
      duration_ms: 1
      ...
    # Subtest: kill -9 one MCP server replica
    not ok 2 - kill -9 one MCP server replica
      ---
      duration_ms: 15458
      failureType: 'testCodeFailure'
      error: |-
        drill "kill -9 MCP replica" out of bounds:
        - tool call failed outside the rule: HTTP 502 sent at +0.3 s
        + actual - expected
        
        + [
      code: 'ERR_ASSERTION'
      ...
    # Subtest: known hole
    not ok 3 - known hole # TODO not fixed yet
      ---
      failureType: 'testCodeFailure'
      error: 'nope'
      ...
    # Subtest: times out
    not ok 4 - times out
      ---
      failureType: 'testTimeoutFailure'
      error: 'test timed out after 300000ms'
      ...
not ok 1 - drills
  ---
  failureType: 'subtestsFailed'
  error: '2 subtests failed'
  ...
`;

describe('tapFailures', () => {
  it('names each failing test with its error text, without TODOs, diffs or the suite line', () => {
    assert.deepEqual(tapFailures(TAP), [
      'kill -9 one MCP server replica:',
      '  drill "kill -9 MCP replica" out of bounds:',
      '  - tool call failed outside the rule: HTTP 502 sent at +0.3 s',
      'times out:',
      "  'test timed out after 300000ms'",
    ]);
  });

  it('keeps to maxLines', () => {
    assert.deepEqual(tapFailures(TAP, 2), [
      'kill -9 one MCP server replica:',
      '  drill "kill -9 MCP replica" out of bounds:',
      '… (3 more lines)',
    ]);
  });

  it('nothing failed: nothing to say', () => {
    assert.deepEqual(tapFailures('TAP version 13\nok 1 - all\n'), []);
  });
});
