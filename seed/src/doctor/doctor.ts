// The realm doctor: walks the path a real MCP host takes against a running Keycloak + MCP server and says, for
// each step that breaks clients, pass or fail with a one-line fix. The checks live in checks/, one module per
// group; each declares the facts it needs from earlier ones (check.ts Facts) and is skipped, naming what it
// waited for, when they are missing. This runner runs them in order and deletes the probe client registered
// through anonymous DCR at the end, whatever happened.
import {
  runCheck,
  trim,
  type CheckResult,
  type DoctorOptions,
  type DoctorSettings,
  type Facts,
} from './check.ts';
import { clientCapacity } from './checks/capacity.ts';
import { clock } from './checks/clock.ts';
import { ldap } from './checks/ldap.ts';
import { broker } from './checks/broker.ts';
import { asMetadata, prm } from './checks/discovery.ts';
import { cors, deleteProbe, pkce, registration } from './checks/registration.ts';
import { issuerCheck, jwks, offlineAccess, serverAccepts, tokenAudience } from './checks/tokens.ts';
import { CookieJar } from './http.ts';

export { CHECKS, type CheckId, type CheckResult, type DoctorOptions } from './check.ts';

/** Before the probe client exists: discovery and registration. */
const FIRST = [prm, asMetadata, registration] as const;
/** With the probe client (deleted after them). */
const WITH_PROBE = [pkce, cors, tokenAudience, offlineAccess, issuerCheck, jwks, serverAccepts] as const;
/** After it: what compares or counts. */
const LAST = [clock, clientCapacity] as const;

export async function runDoctor(options: DoctorOptions): Promise<CheckResult[]> {
  const settings: DoctorSettings = {
    ...options,
    issuer: trim(options.issuer),
    admin: options.admin,
    now: options.now ?? Date.now,
    jar: new CookieJar(),
  };
  const facts: Facts = {};
  const results: CheckResult[] = [];
  for (const check of FIRST) results.push(await runCheck(check, settings, facts));
  try {
    for (const check of WITH_PROBE) results.push(await runCheck(check, settings, facts));
  } finally {
    if (facts.probe) {
      await deleteProbe({
        registration_client_uri: facts.probe.registrationClientUri,
        registration_access_token: facts.probe.registrationAccessToken,
      });
    }
  }
  for (const check of LAST) results.push(await runCheck(check, settings, facts));
  // Only where a directory is configured: a stack without one has nothing to report.
  if (settings.ldap) results.push(await runCheck(ldap, settings, facts));
  if (settings.broker) results.push(await runCheck(broker, settings, facts));
  return results;
}

export function formatResults(results: CheckResult[]): string {
  const mark = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' } as const;
  const lines = results.map(
    (r) => `${mark[r.status]}  ${r.title}: ${r.detail}${r.fix ? `\n      fix: ${r.fix}` : ''}`,
  );
  const failed = results.filter((r) => r.status === 'fail').length;
  lines.push(failed ? `${failed} check(s) failed` : 'all checks passed');
  return lines.join('\n');
}
