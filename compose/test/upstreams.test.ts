// The launcher reads the upstreams file before it starts anything (compose/native/upstreams.ts): the default file
// is valid as it ships, a broken one stops the start with the parser's message, none means no upstreams.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LaunchError } from '../native/output.ts';
import { loadSettings } from '../native/settings.ts';
import { loadUpstreams } from '../native/upstreams.ts';

describe('launcher: the upstreams file', () => {
  it('the default file declares `everything` over stdio, from node_modules, at /mcp/everything', () => {
    const [everything, ...rest] = loadUpstreams(loadSettings({}));
    assert.deepEqual(rest, []);
    assert.equal(everything?.name, 'everything');
    assert.equal(everything?.path, '/mcp/everything');
    assert.deepEqual(everything?.scopes, ['mcp:everything']);
    assert.equal(everything?.transport.type, 'stdio');
  });

  it('none when MCP_UPSTREAMS_FILE is empty', () => {
    assert.deepEqual(loadUpstreams(loadSettings({ MCP_UPSTREAMS_FILE: '' })), []);
  });

  it('a broken file or an unset ${VAR} is a LaunchError that says how to start without upstreams', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'launcher-upstreams-'));
    const file = join(dir, 'u.yaml');
    await writeFile(
      file,
      'upstreams:\n  - { name: api, transport: { type: streamable-http, url: "https://api.test/mcp", headers: { X-Key: "${NOT_SET_FOR_THIS_TEST}" } } }\n',
    );
    assert.throws(
      () => loadUpstreams(loadSettings({ MCP_UPSTREAMS_FILE: file }), {}),
      (error: unknown) =>
        error instanceof LaunchError &&
        error.code === 'upstreams_invalid' &&
        /^MCP_UPSTREAMS_FILE: .*NOT_SET_FOR_THIS_TEST.*MCP_UPSTREAMS_FILE= to start without upstreams/.test(
          error.message,
        ),
    );
    assert.deepEqual(
      loadUpstreams(loadSettings({ MCP_UPSTREAMS_FILE: file }), { NOT_SET_FOR_THIS_TEST: 'k' }).map(
        (u) => u.name,
      ),
      ['api'],
    );
  });
});
