// The two authentication flows the seed owns for the upstream, both copies of Keycloak's built-in ones (which stay
// as they are):
//   - FIRST_LOGIN_FLOW, what runs the first time someone arrives from the upstream: Review Profile pinned to
//     "missing" (no form when the upstream gave what the realm's user profile requires: email, first and last
//     name), then Keycloak's own "create the user if unique, otherwise confirm and re-authenticate to link";
//   - UPSTREAM_ONLY_BROWSER_FLOW (SEED_BROKER_ONLY=true), the realm's browser flow with the Identity Provider
//     Redirector defaulting to the upstream: every login goes there, the form only with `kc_idp_hint=` (empty).
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type AuthenticationExecutionInfoRepresentation from '@keycloak/keycloak-admin-client/lib/defs/authenticationExecutionInfoRepresentation.js';
import { SeedError } from '../errors.ts';
import { DEFAULT_BROWSER_FLOW, FIRST_LOGIN_FLOW, UPSTREAM_ONLY_BROWSER_FLOW } from './identityProvider.ts';

const BUILT_IN_FIRST_LOGIN = 'first broker login';
const REVIEW_PROFILE = 'idp-review-profile';
const REDIRECTOR = 'identity-provider-redirector';

async function findFlow(admin: KcAdminClient, alias: string) {
  return (await admin.authenticationManagement.getFlows()).find((f) => f.alias === alias);
}

/** Copies a built-in flow once; an existing copy is kept (and converged by the caller). */
async function ensureCopy(admin: KcAdminClient, source: string, alias: string): Promise<boolean> {
  if (await findFlow(admin, alias)) return false;
  await admin.authenticationManagement.copyFlow({ flow: source, newName: alias });
  if (!(await findFlow(admin, alias))) {
    throw new SeedError('keycloak_request_failed', `the authentication flow "${alias}" was not created`);
  }
  return true;
}

/** The execution's configuration set to `config` (created under `configAlias` when it has none). */
async function configure(
  admin: KcAdminClient,
  execution: AuthenticationExecutionInfoRepresentation,
  configAlias: string,
  config: Record<string, string>,
): Promise<void> {
  if (execution.authenticationConfig) {
    const current = await admin.authenticationManagement.getConfig({ id: execution.authenticationConfig });
    await admin.authenticationManagement.updateConfig({
      ...current,
      id: execution.authenticationConfig,
      config: { ...current.config, ...config },
    });
  } else {
    await admin.authenticationManagement.createConfig({ id: execution.id, alias: configAlias, config });
  }
}

async function topLevelExecution(
  admin: KcAdminClient,
  flow: string,
  providerId: string,
): Promise<AuthenticationExecutionInfoRepresentation> {
  const execution = (await admin.authenticationManagement.getExecutions({ flow })).find(
    (e) => e.providerId === providerId && e.level === 0,
  );
  if (!execution?.id) {
    throw new SeedError(
      'realm_incomplete',
      `the authentication flow "${flow}" has no ${providerId} step: delete the flow in the admin console ` +
        '(Authentication) and run the seed again',
    );
  }
  return execution;
}

/** FIRST_LOGIN_FLOW, created or converged; whether it was created. */
export async function ensureFirstLoginFlow(admin: KcAdminClient): Promise<boolean> {
  const created = await ensureCopy(admin, BUILT_IN_FIRST_LOGIN, FIRST_LOGIN_FLOW);
  const review = await topLevelExecution(admin, FIRST_LOGIN_FLOW, REVIEW_PROFILE);
  // "missing": the profile form only for what the upstream did not give; "on" would show it to everyone.
  await configure(admin, review, `${FIRST_LOGIN_FLOW} review profile`, {
    'update.profile.on.first.login': 'missing',
  });
  if (review.requirement !== 'REQUIRED') {
    await admin.authenticationManagement.updateExecution(
      { flow: FIRST_LOGIN_FLOW },
      { ...review, requirement: 'REQUIRED' },
    );
  }
  return created;
}

/**
 * SEED_BROKER_ONLY: true binds UPSTREAM_ONLY_BROWSER_FLOW (its redirector defaulting to `alias`) as the realm's
 * browser flow; false binds the realm's own "browser" again and deletes the copy. Says what it did.
 */
export async function ensureBrowserBinding(
  admin: KcAdminClient,
  realm: string,
  only: boolean,
  alias: string,
): Promise<string> {
  const bound = (await admin.realms.findOne({ realm }))?.browserFlow;
  if (!only) {
    if (bound === UPSTREAM_ONLY_BROWSER_FLOW) {
      await admin.realms.update({ realm }, { browserFlow: DEFAULT_BROWSER_FLOW });
    }
    const copy = await findFlow(admin, UPSTREAM_ONLY_BROWSER_FLOW);
    if (copy?.id) await admin.authenticationManagement.deleteFlow({ flowId: copy.id });
    return bound === UPSTREAM_ONLY_BROWSER_FLOW
      ? `login form and a "${alias}" button (browser flow "${DEFAULT_BROWSER_FLOW}" bound again)`
      : `login form and a "${alias}" button (kc_idp_hint=${alias} skips the form)`;
  }
  if (bound && bound !== DEFAULT_BROWSER_FLOW && bound !== UPSTREAM_ONLY_BROWSER_FLOW) {
    throw new SeedError(
      'config_invalid',
      `SEED_BROKER_ONLY: the realm's browser flow is "${bound}", not "${DEFAULT_BROWSER_FLOW}"; the seed does not ` +
        `replace a flow it did not make: set its Identity Provider Redirector's default provider to "${alias}" in ` +
        'the admin console instead, or set SEED_BROKER_ONLY=false',
    );
  }
  await ensureCopy(admin, DEFAULT_BROWSER_FLOW, UPSTREAM_ONLY_BROWSER_FLOW);
  const redirector = await topLevelExecution(admin, UPSTREAM_ONLY_BROWSER_FLOW, REDIRECTOR);
  await configure(admin, redirector, `${UPSTREAM_ONLY_BROWSER_FLOW} default provider`, {
    defaultProvider: alias,
  });
  if (bound !== UPSTREAM_ONLY_BROWSER_FLOW) {
    await admin.realms.update({ realm }, { browserFlow: UPSTREAM_ONLY_BROWSER_FLOW });
  }
  return `every login goes to "${alias}" (browser flow "${UPSTREAM_ONLY_BROWSER_FLOW}"; the login form only with kc_idp_hint= empty)`;
}
