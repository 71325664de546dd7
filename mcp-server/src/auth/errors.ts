// Why a request was not authorized. `code` is stable (tests, logs and dashboards key on it); `message` is a
// short sentence that is safe to send back as `error_description`: it never echoes token contents.

export type AuthErrorCode =
  | 'token_missing'
  | 'token_malformed'
  | 'token_type_not_allowed'
  | 'token_expired'
  | 'token_lifetime_too_long'
  | 'token_not_yet_valid'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'algorithm_not_allowed'
  | 'signature_invalid'
  | 'key_not_found'
  | 'jwks_unavailable'
  | 'introspection_unavailable'
  | 'token_inactive'
  | 'client_not_allowed'
  | 'claim_invalid'
  | 'insufficient_scope'
  | 'role_missing';

/** Failures that are the server's problem (keys or introspection unreachable): 503, never a 401. */
export const UNAVAILABLE_CODES: ReadonlySet<AuthErrorCode> = new Set([
  'jwks_unavailable',
  'introspection_unavailable',
]);

export class AuthError extends Error {
  readonly code: AuthErrorCode;
  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthError';
    this.code = code;
  }
}
