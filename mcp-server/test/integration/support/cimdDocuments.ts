// Client ID metadata documents (docs/cimd.md) served by the tests over HTTPS on loopback, with a certificate of the
// test CA Keycloak trusts (compose/native/testCa.ts, npm test starts the stack with it). The realm's mcp-cimd policy
// fetches documents only from SEED_CIMD_TRUSTED_DOMAINS: trustLoopbackDocuments() adds localhost for the test's
// duration and puts the policy back as it was.
import type ClientPolicyRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientPolicyRepresentation.js';
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { dirname } from 'node:path';
import { CIMD_POLICY, KEYCLOAK_CIMD_CONDITION } from '@mcp-keycloak-stack/seed/cimd/ensureCimdPolicy';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { issueLoopbackCertificate, testCaDir } from '../../../../compose/native/testCa.ts';
import { keycloakAdmin } from '../../clients/support/consoleClient.ts';
import { stackCardPath } from '../../e2e/support/stack.ts';

/** A document's answer: JSON (200, cacheable), or the raw status, headers and body. */
export type DocumentAnswer =
  Record<string, unknown> | { status: number; headers?: Record<string, string>; body?: string };

export class DocumentServer {
  private readonly answers = new Map<string, (url: string) => DocumentAnswer>();
  private readonly hits = new Map<string, number>();

  private constructor(private readonly server: Server) {}

  /** Starts on a free loopback port; fails with what to do when the stack has no test CA. */
  static async start(): Promise<DocumentServer> {
    const caDir = testCaDir(dirname(stackCardPath()));
    if (!existsSync(caDir)) {
      throw new Error(
        `no test CA in ${caDir}: Keycloak must trust it to fetch the tests' documents; ` +
          'let `npm test` start the stack (it passes KC_TRUSTSTORE_PATHS), or start one with ' +
          `KC_TRUSTSTORE_PATHS=${caDir}/ca.pem after \`ensureTestCa\``,
      );
    }
    const { key, cert } = await issueLoopbackCertificate(caDir);
    // The handler runs only once listening, when `documents` is set.
    const server = createServer({ key, cert }, (req, res) => documents.answer(req, res));
    const documents = new DocumentServer(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return documents;
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'https://localhost').pathname;
    this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
    const answer = this.answers.get(path)?.(this.url(path));
    if (!answer) {
      res.writeHead(404).end();
      return;
    }
    if (typeof answer.status === 'number' && !('client_id' in answer)) {
      const raw = answer as { status: number; headers?: Record<string, string>; body?: string };
      res.writeHead(raw.status, raw.headers ?? {}).end(raw.body ?? '');
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' })
      .end(JSON.stringify(answer));
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** The document's URL, which is also its client_id. */
  url(path: string): string {
    return `https://localhost:${this.port}${path}`;
  }

  /** Serves `path`; the function gets the document's own URL (its client_id). */
  serve(path: string, answer: (url: string) => DocumentAnswer): string {
    this.answers.set(path, answer);
    return this.url(path);
  }

  /** How often Keycloak (or anyone) asked for `path`. */
  fetches(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A native host's document: public client, authorization code + refresh, loopback redirect URIs. */
export function hostDocument(
  clientId: string,
  name: string,
  redirectUris: string[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    client_id: clientId,
    client_name: name,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...extra,
  };
}

/**
 * Adds localhost to the hosts the realm's mcp-cimd policy fetches documents from; returns the undo. Each step logs
 * the admin in anew: the admin client cannot refresh its token once it works on the realm (seed/src/adminSession.ts).
 */
export async function trustLoopbackDocuments(card: StackCard): Promise<() => Promise<void>> {
  const admin = await keycloakAdmin(card);
  const before = (await admin.clientPolicies.listPolicies({ includeGlobalPolicies: false })).policies ?? [];
  const policy = before.find((p) => p.name === CIMD_POLICY);
  if (!policy)
    throw new Error(`the realm has no ${CIMD_POLICY} client policy: the seed writes it (docs/cimd.md)`);
  const saved = JSON.parse(JSON.stringify(before)) as ClientPolicyRepresentation[];
  const condition = policy.conditions?.find((c) => c.condition === KEYCLOAK_CIMD_CONDITION);
  const configuration = (condition?.configuration ?? {}) as Record<string, string[]>;
  const hosts = configuration['client-id-uri-allow-permitted-domains'] ?? [];
  configuration['client-id-uri-allow-permitted-domains'] = [...hosts, 'localhost'];
  policy.enabled = true;
  await admin.clientPolicies.updatePolicy({ policies: before });
  return async () => {
    await (await keycloakAdmin(card)).clientPolicies.updatePolicy({ policies: saved });
  };
}

/** What Keycloak's error page says (the text of its kc-error-message block), entities decoded. */
export function errorPageMessage(html: string): string | undefined {
  const block = /id="kc-error-message"[\s\S]*?<p class="instruction">([\s\S]*?)<\/p>/.exec(html)?.[1];
  return block
    ?.replace(/<[^>]*>/g, '')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCharCode(parseInt(code, 16)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
