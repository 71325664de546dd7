// The server's scope and role names are the realm's (the contract in @mcp-keycloak-stack/seed/contracts): a
// rename on one side only would refuse every call or let the admin tool through the wrong gate.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as contract from '@mcp-keycloak-stack/seed/contracts';
import { ADMIN_ROLE, ADMIN_SCOPE, TOOLS_SCOPE } from '../../src/mcp/toolAccess.ts';

describe('contracts shared with the seed', () => {
  it('scope and role names are the realm contract', () => {
    assert.equal(TOOLS_SCOPE, contract.TOOLS_SCOPE);
    assert.equal(ADMIN_SCOPE, contract.ADMIN_SCOPE);
    assert.equal(ADMIN_ROLE, contract.ADMIN_ROLE);
    assert.deepEqual([TOOLS_SCOPE, ADMIN_SCOPE], [...contract.REQUIRED_CLIENT_SCOPES]);
  });
});
