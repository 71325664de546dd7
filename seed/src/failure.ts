// The one line main.ts prints when a command fails, naming what really failed: a SeedError as it stands, a file
// operation as a file error (fileErrors.ts: path, user, fix), an admin-API answer or an unreachable Keycloak as a
// Keycloak request, and anything else as itself — never a file permission blamed on Keycloak.
import { httpStatusOf } from './adminSession.ts';
import { SeedError } from './errors.ts';
import { fileErrorOf, type FileContext } from './fileErrors.ts';
import { StackCardError } from './stackCard.ts';
import { describeFetchError } from './waitForKeycloak.ts';

export function failureLine(error: unknown, context: FileContext): string {
  const known = error instanceof SeedError ? error : fileErrorOf(error, context);
  if (known) return `[seed] error (${known.code}): ${known.message}`;
  if (error instanceof StackCardError) return `[seed] error (${error.code}): ${error.message}`;
  const message = error instanceof Error ? error.message : String(error);
  const status = httpStatusOf(error);
  if (status !== undefined) return `[seed] error: Keycloak request failed with HTTP ${status}: ${message}`;
  // fetch's own failure (no answer at all): the seed's only HTTP peer is Keycloak.
  if (error instanceof TypeError && message === 'fetch failed') {
    return `[seed] error: Keycloak request failed: ${describeFetchError(error)}`;
  }
  return `[seed] error: ${message}`;
}
