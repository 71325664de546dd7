import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { SEMI_SPACE_NODE_OPTION } from '../../src/heapTuning.ts';
import { mcpServerSpec } from '../../../compose/native/services.ts';
import { loadSettings } from '../../../compose/native/settings.ts';

// The young-generation size can only be given at process start, so it lives in three places; the benchmark
// measures it (bench/run.ts imports the constant), and these keep the other two in step.
describe('heap tuning reaches every way the server is started', () => {
  it('the image sets it in NODE_OPTIONS', async () => {
    const dockerfile = await readFile(new URL('../../Dockerfile', import.meta.url), 'utf8');
    const options = /NODE_OPTIONS=(\S+)/.exec(dockerfile)?.[1];
    assert.equal(options, SEMI_SPACE_NODE_OPTION);
  });

  it('the native launcher passes it on the command line', () => {
    const spec = mcpServerSpec(loadSettings({}));
    assert.ok(spec.args.includes(SEMI_SPACE_NODE_OPTION), spec.args.join(' '));
  });
});
