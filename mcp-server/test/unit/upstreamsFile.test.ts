// The upstreams file: what a valid one becomes, and that every mistake names the upstream and the field.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, ConfigError } from '../../src/config.ts';
import { accessRule } from '../../src/auth/authorize.ts';
import { toolPolicy, toolPattern } from '../../src/gateway/toolPolicy.ts';
import { parseUpstreams, upstreamResourceUrl, UpstreamsFileError } from '../../src/gateway/upstreamsFile.ts';

const refusal = (text: string, env: Record<string, string> = {}) => {
  try {
    parseUpstreams(text, env);
  } catch (error) {
    assert.ok(error instanceof UpstreamsFileError);
    assert.equal(error.code, 'upstreams_invalid');
    return error.message;
  }
  assert.fail('expected the file to be refused');
};

describe('upstreams file', () => {
  it('fills the defaults: path /mcp/<name>, scope mcp:<name>, per-subject stdio, allow all', () => {
    const [spec] = parseUpstreams(
      'upstreams:\n  - name: tickets\n    transport: { type: stdio, command: node, args: [server.js] }\n',
      {},
    );
    assert.equal(spec?.path, '/mcp/tickets');
    assert.deepEqual(spec?.scopes, ['mcp:tickets']);
    assert.equal(spec?.transport.type === 'stdio' && spec.transport.isolation, 'per-subject');
    assert.deepEqual(spec?.tools.allow, ['*']);
    assert.deepEqual(spec?.identity, { type: 'none' });
    assert.equal(spec?.audit.arguments, false);
  });

  it('reads JSON as well as YAML', () => {
    const specs = parseUpstreams(
      JSON.stringify({
        upstreams: [{ name: 'a', transport: { type: 'streamable-http', url: 'http://a/mcp' } }],
      }),
      {},
    );
    assert.equal(specs[0]?.name, 'a');
  });

  it('takes ${VAR} in transport strings from the environment and refuses an unset one', () => {
    const text =
      'upstreams:\n  - name: crm\n    transport:\n      type: streamable-http\n      url: http://crm:8080/mcp\n      headers: { X-Api-Key: "${CRM_KEY}" }\n';
    const [spec] = parseUpstreams(text, { CRM_KEY: 's3cret' });
    assert.deepEqual(spec?.transport.type === 'streamable-http' && spec.transport.headers, {
      'X-Api-Key': 's3cret',
    });
    assert.match(
      refusal(text),
      /upstream "crm": transport\.headers\.X-Api-Key names \$\{CRM_KEY\}, which is not set/,
    );
  });

  it('names the upstream and the field of each mistake', () => {
    assert.match(
      refusal('upstreams:\n  - name: tickets\n    transport: { type: stdio }\n'),
      /upstream "tickets": transport\.command: is required/,
    );
    assert.match(
      refusal('upstreams:\n  - name: t\n    transport: { type: ftp }\n'),
      /upstream "t": transport\.type: must have type stdio or streamable-http/,
    );
    assert.match(
      refusal(
        'upstreams:\n  - name: t\n    transport: { type: streamable-http, url: "file:///etc/passwd" }\n',
      ),
      /upstream "t": transport\.url: must be an absolute http\(s\) URL/,
    );
    assert.match(
      refusal('upstreams:\n  - name: Bad_Name\n    transport: { type: stdio, command: x }\n'),
      /name: must be lowercase/,
    );
    assert.match(
      refusal('upstreams: [{ name: a, transport: { type: stdio, command: x }, colour: red }]'),
      /upstream "a": .*colour/,
    );
    assert.match(refusal('upstreams:\n  - name: a\n   bad: indent'), /not valid YAML or JSON \(line 3\)/);
  });

  it("refuses duplicate names or paths, the built-in name, and the server's own paths", () => {
    const stdio = 'transport: { type: stdio, command: x }';
    assert.match(
      refusal(`upstreams:\n  - { name: a, ${stdio} }\n  - { name: a, ${stdio} }\n`),
      /names must be unique/,
    );
    assert.match(
      refusal(
        `upstreams:\n  - { name: a, path: /mcp/x, ${stdio} }\n  - { name: b, path: /mcp/x, ${stdio} }\n`,
      ),
      /paths must be unique/,
    );
    assert.match(refusal(`upstreams:\n  - { name: builtin, ${stdio} }\n`), /built-in/);
    for (const path of ['/mcp', '/healthz', '/.well-known/oauth-protected-resource/x', '/metrics'])
      assert.match(
        refusal(`upstreams:\n  - { name: a, path: "${path}", ${stdio} }\n`),
        /is the server's own/,
      );
  });

  it('makes the server refuse to start on a bad file, naming MCP_UPSTREAMS_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'upstreams-'));
    const file = join(dir, 'upstreams.yaml');
    writeFileSync(file, 'upstreams:\n  - name: tickets\n    transport: { type: stdio }\n');
    assert.throws(
      () => loadConfig({ MCP_UPSTREAMS_FILE: file }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.variables.includes('MCP_UPSTREAMS_FILE') &&
        /upstream "tickets": transport\.command/.test(error.message),
    );
    assert.throws(
      () => loadConfig({ MCP_UPSTREAMS_FILE: join(dir, 'missing.yaml') }),
      /cannot read the upstreams file/,
    );
  });

  it("puts an upstream under the built-in resource URL's origin and prefix", () => {
    assert.equal(upstreamResourceUrl('http://localhost:3000/mcp', '/mcp/a'), 'http://localhost:3000/mcp/a');
    assert.equal(
      upstreamResourceUrl('https://gw.example/tools/mcp', '/mcp/a'),
      'https://gw.example/tools/mcp/a',
    );
  });
});

describe('tool policy', () => {
  const [spec] = parseUpstreams(
    [
      'upstreams:',
      '  - name: files',
      '    transport: { type: stdio, command: x }',
      '    tools:',
      '      allow: [read_*, write_file, delete_*]',
      '      deny: [read_secret]',
      '      rules:',
      '        - { match: [write_file, delete_*], scopes: [mcp:admin] }',
      '        - { match: delete_*, roles: [mcp-admin] }',
    ].join('\n'),
    {},
  );
  const requestRule = accessRule({ scopes: ['mcp:files'], insufficientScope: 'x' });
  const policy = toolPolicy(spec!, requestRule);
  const user = { scopes: ['mcp:files'], roles: [] };
  const admin = { scopes: ['mcp:files', 'mcp:admin'], roles: ['mcp-admin'] };

  it('matches * as any run of characters, everything else literally', () => {
    assert.ok(toolPattern('delete_*').test('delete_everything'));
    assert.ok(!toolPattern('delete_*').test('undelete_x'));
    assert.ok(!toolPattern('a.b').test('axb'));
  });

  it('offers only allowed tools that are not denied', () => {
    assert.deepEqual(policy.judge(user, 'list_dir'), { offered: false });
    assert.deepEqual(policy.judge(admin, 'read_secret'), { offered: false });
    assert.equal(policy.visible(user, 'read_file'), true);
  });

  it("asks for the rule's scopes with a step-up that keeps the upstream's scope", () => {
    const verdict = policy.judge(user, 'write_file');
    assert.ok(verdict.offered && !verdict.decision.allowed);
    assert.equal(verdict.decision.code, 'insufficient_scope');
    assert.equal(
      verdict.decision.allowed === false &&
        verdict.decision.status === 403 &&
        'scope' in verdict.decision &&
        verdict.decision.scope,
      'mcp:files mcp:admin',
    );
    assert.equal(policy.visible(user, 'write_file'), false);
  });

  it('adds up every matching rule: delete_* needs the scope and the role', () => {
    const scopeOnly = { scopes: ['mcp:files', 'mcp:admin'], roles: [] };
    const verdict = policy.judge(scopeOnly, 'delete_file');
    assert.ok(verdict.offered && !verdict.decision.allowed && verdict.decision.code === 'role_missing');
    const ok = policy.judge(admin, 'delete_file');
    assert.ok(ok.offered && ok.decision.allowed);
  });
});
