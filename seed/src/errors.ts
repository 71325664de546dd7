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
  | 'ldap_unreachable'
  /** The upstream identity provider cannot be read, by the seed or by Keycloak (broker/testUpstream.ts). */
  | 'broker_unreachable'
  /** The upstream (or Keycloak) refused the identity provider's settings: credentials, grant, method. */
  | 'broker_rejected'
  /** The stack card's folder cannot be written by the user the seed runs as (cardFolder.ts). */
  | 'stack_dir_not_writable'
  /** A file or folder operation was refused: permission denied, or a read-only file system (fileErrors.ts). */
  | 'file_access_denied'
  /** Any other failed file operation: no space left, a file where a folder should be, … (fileErrors.ts). */
  | 'file_failed'
  /** `mark-ready`: the MCP server or Keycloak did not answer as a ready stack does in time (markReady.ts). */
  | 'stack_not_ready';
