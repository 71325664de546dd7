import { setTimeout as sleep } from 'node:timers/promises';
import { SeedError } from './errors.ts';

/** Polls the master realm's public endpoint so the seed can run right after Keycloak's process starts. */
export async function waitForKeycloak(
  keycloakUrl: string,
  waitSeconds: number,
  report: (line: string) => void,
): Promise<void> {
  const deadline = Date.now() + waitSeconds * 1000;
  let lastReason = 'no answer yet';
  let lastReport = 0;
  for (;;) {
    try {
      const response = await fetch(`${keycloakUrl}/realms/master`, { signal: AbortSignal.timeout(3000) });
      if (response.ok) return;
      lastReason = `HTTP ${response.status}`;
    } catch (error) {
      lastReason = describeFetchError(error);
    }
    if (Date.now() >= deadline) {
      throw new SeedError(
        'keycloak_unreachable',
        `Keycloak at ${keycloakUrl} did not answer within ${waitSeconds}s (${lastReason}). ` +
          'Is it running, and is KEYCLOAK_URL right?',
      );
    }
    if (Date.now() - lastReport >= 5000) {
      report(`waiting for Keycloak at ${keycloakUrl} (${lastReason})`);
      lastReport = Date.now();
    }
    await sleep(1000);
  }
}

export function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
