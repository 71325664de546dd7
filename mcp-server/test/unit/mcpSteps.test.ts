// The named steps of POST /mcp (src/mcp/*), each on its own with its typed result; the route that chains
// them is covered end to end in app.test.ts and mcpAuthorization.test.ts.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { accessRule, ALLOW } from '../../src/auth/authorize.ts';
import { decideCall } from '../../src/mcp/authorizeCall.ts';
import { classifyJsonRpc } from '../../src/mcp/jsonRpc.ts';
import { paramsProblem, paramsRefusal } from '../../src/mcp/paramsProblem.ts';
import { readMessage } from '../../src/mcp/readMessage.ts';
import { Refusal } from '../../src/mcp/refusal.ts';
import { resolveTarget, toolTargets } from '../../src/mcp/target.ts';
import { acceptsMcpResponses, transportRules } from '../../src/mcp/transportRules.ts';

const ACCEPT = 'application/json, text/event-stream';
const request = (method: string, params?: unknown, id: string | number = 1) =>
  ({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }) as JSONRPCRequest;

describe('transportRules', () => {
  it('Accept must list JSON and an event stream; wildcards count', () => {
    assert.equal(acceptsMcpResponses(ACCEPT), true);
    assert.equal(acceptsMcpResponses('*/*'), true);
    assert.equal(acceptsMcpResponses('application/*;q=0.9, text/*'), true);
    assert.equal(acceptsMcpResponses('application/json'), false);
    assert.equal(acceptsMcpResponses(''), false);
  });

  it('406 not_acceptable and 400 protocol_version_unsupported; absent version accepted', () => {
    const check = transportRules();
    assert.equal(check(ACCEPT, ''), undefined);
    assert.equal(check(ACCEPT, '2025-06-18'), undefined);
    const refused = check('application/json', '');
    assert.ok(refused instanceof Refusal);
    assert.equal(refused.reason, 'not_acceptable');
    assert.equal(refused.status, 406);
    const version = check(ACCEPT, '1999-01-01');
    assert.equal(version?.reason, 'protocol_version_unsupported');
    assert.equal(version?.status, 400);
    assert.match(version?.message ?? '', /unsupported MCP-Protocol-Version "1999-01-01"/);
  });

  it('its one-entry Accept cache follows a changing header, and each route has its own', () => {
    const a = transportRules();
    const b = transportRules();
    assert.equal(a('text/html', ''), b('text/html', ''));
    assert.equal(a(ACCEPT, ''), undefined);
    assert.equal(a('text/html', '')?.status, 406);
    assert.equal(a(ACCEPT, ''), undefined);
    assert.equal(b('text/html', '')?.status, 406, 'not fooled by the other route’s last Accept');
  });
});

describe('classifyJsonRpc', () => {
  it('request, notification, response', () => {
    assert.equal(classifyJsonRpc({ jsonrpc: '2.0', id: 1, method: 'ping' }).kind, 'request');
    assert.equal(
      classifyJsonRpc({ jsonrpc: '2.0', method: 'notifications/initialized' }).kind,
      'notification',
    );
    assert.equal(classifyJsonRpc({ jsonrpc: '2.0', id: 1, result: {} }).kind, 'response');
  });

  it('invalid, keeping the id when there is one', () => {
    assert.deepEqual(classifyJsonRpc([{ jsonrpc: '2.0', id: 1, method: 'ping' }]), {
      kind: 'invalid',
      reason: 'Invalid Request: batches are not supported',
      id: null,
    });
    assert.deepEqual(classifyJsonRpc({ jsonrpc: '1.0', id: 'x', method: 'ping' }), {
      kind: 'invalid',
      reason: 'Invalid Request: jsonrpc must be "2.0"',
      id: 'x',
    });
    assert.equal(classifyJsonRpc({ jsonrpc: '2.0', id: 1, method: 'ping', params: 3 }).kind, 'invalid');
    assert.equal(classifyJsonRpc({ jsonrpc: '2.0', id: null, method: 'ping' }).kind, 'invalid');
    assert.equal(classifyJsonRpc('ping').kind, 'invalid');
  });
});

describe('paramsRefusal', () => {
  it('tools/call and initialize get one readable sentence as -32602 under the request id', () => {
    assert.equal(paramsProblem(request('tools/call', { name: 'whoami' })), undefined);
    assert.equal(paramsProblem(request('tools/list')), undefined);
    const refused = paramsRefusal(request('tools/call', { name: 'whoami', arguments: [] }, 'r1'));
    assert.equal(refused?.reason, 'invalid_params');
    assert.equal(refused?.code, -32602);
    assert.equal(refused?.status, 200);
    assert.equal(refused?.id, 'r1');
    assert.equal(refused?.message, 'Invalid params: tools/call params.arguments must be an object');
    assert.equal(
      paramsProblem(request('initialize', { protocolVersion: '2025-06-18', capabilities: {} })),
      'initialize needs params.clientInfo with name and version (strings)',
    );
  });
});

describe('resolveTarget and decideCall', () => {
  const requestRule = accessRule({
    scopes: ['mcp:read'],
    insufficientScope: 'the token lacks the mcp:read scope',
  });
  const tools = toolTargets(
    new Map([
      ['whoami', { scopes: ['mcp:read'], roles: [] }],
      ['reset_usage', { scopes: ['mcp:read', 'mcp:admin'], roles: ['mcp-admin'] }],
    ]),
    requestRule,
  );

  it('a declared tool resolves to its one shared target; the request-level scope is not checked again', () => {
    const target = resolveTarget(request('tools/call', { name: 'reset_usage' }), tools);
    assert.equal(target, tools.get('reset_usage'));
    assert.equal(target.kind === 'tool' && target.rule.scope, 'mcp:read mcp:admin');
    assert.deepEqual(target.kind === 'tool' && target.rule.scopes, ['mcp:admin']);
    assert.deepEqual(target.kind === 'tool' && target.rule.roles, ['mcp-admin']);
    assert.equal(
      target.kind === 'tool' && target.rule.insufficientScope,
      'the reset_usage tool needs the scopes: mcp:read mcp:admin',
    );
  });

  it('an undeclared tool and a plain method', () => {
    assert.deepEqual(resolveTarget(request('tools/call', { name: 'rm_rf' }), tools), {
      kind: 'unknown_tool',
      name: 'rm_rf',
    });
    const method = resolveTarget(request('tools/list'), tools);
    assert.equal(method.kind, 'method');
    assert.equal(resolveTarget(request('ping'), tools), method, 'one shared object');
  });

  it('a method needs nothing more; a tool its own rule', () => {
    const token = {
      subject: 's',
      username: null,
      clientId: 'c',
      scopes: ['mcp:read'],
      roles: [],
      expiresAt: 0,
      audiences: [],
      claims: {},
    };
    assert.equal(decideCall(token, resolveTarget(request('tools/list'), tools)), ALLOW);
    assert.equal(decideCall(token, resolveTarget(request('tools/call', { name: 'whoami' }), tools)), ALLOW);
    const admin = decideCall(token, resolveTarget(request('tools/call', { name: 'reset_usage' }), tools));
    assert.equal(admin.allowed === false && admin.code, 'insufficient_scope');
  });
});

describe('readMessage', () => {
  const body = (text: string, contentType = 'application/json') => {
    const req = new PassThrough() as unknown as IncomingMessage;
    req.headers = { 'content-type': contentType };
    (req as unknown as PassThrough).end(text);
    return req;
  };

  it('a JSON-RPC request comes back classified', async () => {
    const message = await readMessage(body('{"jsonrpc":"2.0","id":1,"method":"ping"}'), 1024);
    assert.ok(!(message instanceof Refusal));
    assert.equal(message.kind, 'request');
  });

  it('415, 413 (closing the connection), 400 -32700 and 400 -32600 as Refusals', async () => {
    const media = await readMessage(body('{}', 'text/plain'), 1024);
    assert.ok(media instanceof Refusal);
    assert.deepEqual([media.reason, media.status], ['unsupported_media_type', 415]);
    const large = await readMessage(body(`{"x":"${'a'.repeat(100)}"}`), 16);
    assert.ok(large instanceof Refusal);
    assert.deepEqual(
      [large.reason, large.status, large.headers],
      ['body_too_large', 413, { Connection: 'close' }],
    );
    const parse = await readMessage(body('{'), 1024);
    assert.ok(parse instanceof Refusal);
    assert.deepEqual([parse.reason, parse.status, parse.code], ['parse_error', 400, -32700]);
    const invalid = await readMessage(body('{"jsonrpc":"2.0","id":5}'), 1024);
    assert.ok(invalid instanceof Refusal);
    assert.deepEqual(
      [invalid.reason, invalid.status, invalid.code, invalid.id],
      ['invalid_request', 400, -32600, 5],
    );
  });
});
