// Is the upstream usable before the realm is touched? Three questions, each failure naming the setting:
//   1. its discovery document, read from here (SEED_BROKER_ISSUER; discovery.ts says what must be in it);
//   2. its token endpoint's opinion of the client credentials, asked with a code that cannot be valid: an
//      authorization server authenticates the client before it looks at the code (RFC 6749 §5.2), so
//      invalid_client (or any 401) means the id, the secret or the method is wrong and invalid_grant means they are
//      right. Nothing is created at the upstream and no person is involved;
//   3. Keycloak's own reach: Keycloak is what will call the upstream at every login, from where it runs and with
//      its truststore, so it is asked to read the same document (the admin console's "import from URL").
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { randomBytes } from 'node:crypto';
import { httpStatusOf } from '../adminSession.ts';
import { describeFetchError } from '../waitForKeycloak.ts';
import { discoveryUrl, readDiscovery, type UpstreamMetadata } from './discovery.ts';
import type { BrokerSettings } from './settings.ts';

export type BrokerProblem = {
  /** broker_unreachable: no answer, or not an OpenID provider; broker_rejected: the upstream said no. */
  code: 'broker_unreachable' | 'broker_rejected';
  /** The settings to look at, the first the most likely. */
  settings: string[];
  message: string;
};

/** The credential check's verdict when the upstream did not refuse (what it said, when it was not a clear yes). */
export type CredentialCheck = { verdict: 'accepted' } | { verdict: 'unchecked'; reason: string };

const TIMEOUT_MS = 10_000;

/** The metadata and the credential check, or the first problem. */
export async function testUpstream(
  settings: BrokerSettings,
  redirectUri: string,
): Promise<{ metadata: UpstreamMetadata; credentials: CredentialCheck } | { problem: BrokerProblem }> {
  const where = discoveryUrl(settings.issuer);
  let document: unknown;
  try {
    const response = await fetch(where, {
      headers: { accept: 'application/json' },
      redirect: 'follow',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return unreachable(`${where} answered HTTP ${response.status}: check SEED_BROKER_ISSUER`);
    }
    document = await response.json().catch(() => undefined);
  } catch (error) {
    return unreachable(
      `the upstream's discovery document ${where} could not be read (${describeFetchError(error)}): check ` +
        'SEED_BROKER_ISSUER and that this machine can reach the upstream',
    );
  }
  const metadata = readDiscovery(document, settings);
  if ('problem' in metadata) {
    return {
      problem: {
        code: metadata.variable === 'SEED_BROKER_ISSUER' ? 'broker_unreachable' : 'broker_rejected',
        settings: [metadata.variable],
        message: metadata.problem,
      },
    };
  }
  const credentials = await checkCredentials(settings, metadata, redirectUri);
  if ('problem' in credentials) return credentials;
  return { metadata, credentials };
}

function unreachable(message: string): { problem: BrokerProblem } {
  return { problem: { code: 'broker_unreachable', settings: ['SEED_BROKER_ISSUER'], message } };
}

/** RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined for Basic. */
const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');

async function checkCredentials(
  settings: BrokerSettings,
  metadata: UpstreamMetadata,
  redirectUri: string,
): Promise<CredentialCheck | { problem: BrokerProblem }> {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: `mcp-stack-credential-check-${randomBytes(12).toString('base64url')}`,
    redirect_uri: redirectUri,
  });
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (settings.clientAuth === 'client_secret_basic') {
    const pair = `${formEncode(settings.clientId)}:${formEncode(settings.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  } else {
    body.set('client_id', settings.clientId);
    body.set('client_secret', settings.clientSecret);
  }
  let response: Response;
  try {
    response = await fetch(metadata.tokenEndpoint, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    return unreachable(
      `the upstream's token endpoint ${metadata.tokenEndpoint} could not be reached (${describeFetchError(error)}): ` +
        'check SEED_BROKER_ISSUER and that this machine can reach the upstream',
    );
  }
  const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  const error = typeof answer.error === 'string' ? answer.error : undefined;
  const said = [error, typeof answer.error_description === 'string' ? answer.error_description : undefined]
    .filter(Boolean)
    .join(': ');
  if (error === 'invalid_grant') return { verdict: 'accepted' };
  if (response.status === 401 || error === 'invalid_client') {
    return {
      problem: {
        code: 'broker_rejected',
        settings: ['SEED_BROKER_CLIENT_ID', 'SEED_BROKER_CLIENT_SECRET_FILE', 'SEED_BROKER_CLIENT_AUTH'],
        message:
          `the upstream refused the client "${settings.clientId}" (HTTP ${response.status}` +
          `${said ? `, ${said}` : ''}): check SEED_BROKER_CLIENT_ID, the secret in SEED_BROKER_CLIENT_SECRET_FILE ` +
          `(not expired?) and SEED_BROKER_CLIENT_AUTH (${settings.clientAuth})`,
      },
    };
  }
  if (error === 'unauthorized_client' || error === 'unsupported_grant_type') {
    return {
      problem: {
        code: 'broker_rejected',
        settings: ['SEED_BROKER_CLIENT_ID'],
        message:
          `the upstream does not let client "${settings.clientId}" use the authorization code grant (${said}): ` +
          'register it at the upstream as a confidential web client with the authorization code flow',
      },
    };
  }
  return {
    verdict: 'unchecked',
    reason: `its token endpoint answered HTTP ${response.status} ${said}`.trim(),
  };
}

/**
 * Keycloak reads the discovery document itself; undefined when it can. Keycloak answers a failure with a bare
 * 500 (its log has the cause), so the message says what usually differs between this machine and Keycloak.
 */
export async function testKeycloakReach(
  admin: KcAdminClient,
  realm: string,
  settings: BrokerSettings,
): Promise<BrokerProblem | undefined> {
  const where = discoveryUrl(settings.issuer);
  try {
    await admin.identityProviders.importFromUrl({ realm, providerId: 'oidc', fromUrl: where });
    return undefined;
  } catch (error) {
    const status = httpStatusOf(error);
    if (status === undefined || status === 401 || status === 403) throw error;
    return {
      code: 'broker_unreachable',
      settings: ['SEED_BROKER_ISSUER', 'KC_TRUSTSTORE_PATHS'],
      message:
        `Keycloak could not read ${where} (HTTP ${status} from its admin API; the cause is in Keycloak's log), ` +
        'though it can be read from here: Keycloak must reach the upstream from where it runs (proxy, DNS, ' +
        "firewall), and trust its certificate (a private CA goes into Keycloak's truststore, KC_TRUSTSTORE_PATHS)",
    };
  }
}
