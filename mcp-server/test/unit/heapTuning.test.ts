import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { MALLOC_ENV, SEMI_SPACE_NODE_OPTION } from '../../src/heapTuning.ts';
import { mcpServerSpec } from '@mcp-keycloak-stack/compose/services';
import { loadSettings } from '@mcp-keycloak-stack/compose/settings';

// The young-generation size and the malloc arenas can only be set at process start, so they live in three
// places: the benchmark measures them (bench/run.ts imports the constants), and these keep the other two in step.
describe('heap tuning reaches every way the server is started', () => {
  it('the image sets them in its environment', async () => {
    const dockerfile = await readFile(new URL('../../Dockerfile', import.meta.url), 'utf8');
    assert.equal(/NODE_OPTIONS=(\S+)/.exec(dockerfile)?.[1], SEMI_SPACE_NODE_OPTION);
    assert.equal(/MALLOC_ARENA_MAX=(\S+)/.exec(dockerfile)?.[1], MALLOC_ENV.MALLOC_ARENA_MAX);
  });

  it('the native launcher passes them on the command line and in the environment', () => {
    const spec = mcpServerSpec(loadSettings({}), {
      keycloakAdminUsername: 'admin',
      keycloakAdminPassword: 'unused-in-this-test',
      valkeyPassword: 'unused-in-this-test',
    });
    assert.ok(spec.args.includes(SEMI_SPACE_NODE_OPTION), spec.args.join(' '));
    assert.equal(spec.env?.MALLOC_ARENA_MAX, MALLOC_ENV.MALLOC_ARENA_MAX);
  });
});
