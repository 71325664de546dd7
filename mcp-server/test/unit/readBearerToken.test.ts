// RFC 6750 §2.1: the Authorization request header field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError } from '../../src/auth/errors.ts';
import { readBearerToken } from '../../src/auth/readBearerToken.ts';

describe('readBearerToken', () => {
  it('returns the token; the scheme is case-insensitive', () => {
    assert.equal(readBearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
    assert.equal(readBearerToken('bearer abc-_~+/='), 'abc-_~+/=');
  });

  it('no header or another scheme → undefined (no credentials: RFC 6750 §3.1)', () => {
    assert.equal(readBearerToken(undefined), undefined);
    assert.equal(readBearerToken(''), undefined);
    assert.equal(readBearerToken('Basic YWxpY2U6c2VjcmV0'), undefined);
    assert.equal(readBearerToken('BearerToken abc'), undefined);
  });

  it('the Bearer scheme with something that is not a token → token_malformed', () => {
    for (const header of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer "abc"', 'Bearer ab=c']) {
      assert.throws(
        () => readBearerToken(header),
        (error: unknown) => error instanceof AuthError && error.code === 'token_malformed',
        header,
      );
    }
  });
});
