/** A seed failure a person can act on: `code` is stable for scripts, `message` says what to fix. */
export class SeedError extends Error {
  readonly code: SeedErrorCode;
  constructor(code: SeedErrorCode, message: string) {
    super(message);
    this.name = 'SeedError';
    this.code = code;
  }
}

export type SeedErrorCode =
  | 'config_invalid'
  | 'keycloak_unreachable'
  | 'admin_credentials_rejected'
  | 'realm_missing'
  | 'realm_incomplete'
  | 'keycloak_request_failed'
  | 'ldap_unreachable';
