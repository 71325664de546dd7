// Log lines are written once per event-loop turn, in order, and never lost when the process exits.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { batchedByTurn } from '../../src/logDestination.ts';

const loggerModule = fileURLToPath(new URL('../../src/logger.ts', import.meta.url));

/** Runs `body` in a fresh Node with `logger` made by createLogger('info'); returns its stdout lines. */
function childLines(body: string): { lines: Array<Record<string, unknown>>; status: number | null } {
  const script = `import { createLogger } from ${JSON.stringify(loggerModule)}; const logger = createLogger('info'); ${body}`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  const lines = child.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { lines, status: child.status };
}

describe('batchedByTurn', () => {
  it('writes the lines of one turn in one write, in order, at the end of the turn', async () => {
    const writes: string[] = [];
    const destination = batchedByTurn({ write: (chunk) => writes.push(chunk) });
    destination.write('a\n');
    destination.write('b\n');
    destination.write('c\n');
    assert.deepEqual(writes, []);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(writes, ['a\nb\nc\n']);
    destination.write('d\n');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(writes, ['a\nb\nc\n', 'd\n']);
  });

  it('flushSync writes what is pending at once, and nothing twice', async () => {
    const writes: string[] = [];
    const destination = batchedByTurn({ write: (chunk) => writes.push(chunk) });
    destination.write('x\n');
    destination.flushSync();
    assert.deepEqual(writes, ['x\n']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(writes, ['x\n']);
  });
});

describe('the process logger on exit', () => {
  it('keeps the last lines before process.exit', () => {
    const { lines, status } = childLines(
      "logger.info('one'); logger.error('cannot start'); process.exit(3);",
    );
    assert.equal(status, 3);
    assert.deepEqual(
      lines.map((line) => line.msg),
      ['one', 'cannot start'],
    );
  });

  it('keeps the last lines before an uncaught exception ends the process', () => {
    // In a timer callback: the process dies in that same turn, before any setImmediate could run.
    const { lines, status } = childLines(
      "setTimeout(() => { logger.warn('about to fail'); throw new Error('boom'); }, 1);",
    );
    assert.equal(status, 1);
    assert.deepEqual(
      lines.map((line) => line.msg),
      ['about to fail'],
    );
  });

  it('writes every line of a busy turn, in order', () => {
    const { lines } = childLines(
      "for (let i = 0; i < 500; i++) logger.info({ i }, 'line'); setImmediate(() => logger.info('next turn'));",
    );
    assert.equal(lines.length, 501);
    assert.deepEqual(
      lines.slice(0, 500).map((line) => line.i),
      Array.from({ length: 500 }, (_, i) => i),
    );
    assert.equal(lines[500]!.msg, 'next turn');
  });
});
