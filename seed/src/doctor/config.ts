// The doctor's options: the environment first (the same names the MCP server reads), then the stack card.
import { z } from 'zod';
import { SeedError } from '../errors.ts';
import { brokerFromEnv } from '../broker/settings.ts';
import { ldapFromEnv } from '../ldap/settings.ts';
import type { StackCard } from '../stackCard.ts';
import type { DoctorOptions } from './doctor.ts';

const url = (name: string) =>
  z
    .string()
    .refine(
      (v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol),
      `${name} must be an absolute http(s) URL`,
    )
    .optional();

const schema = z.object({
  MCP_RESOURCE_URL: url('MCP_RESOURCE_URL'),
  OIDC_ISSUER: url('OIDC_ISSUER'),
  OIDC_JWKS_URL: url('OIDC_JWKS_URL'),
  DOCTOR_BROWSER_ORIGIN: url('DOCTOR_BROWSER_ORIGIN').default('http://localhost:6274'),
  DOCTOR_USERNAME: z.string().min(1).optional(),
  DOCTOR_PASSWORD: z.string().min(1).optional(),
  KEYCLOAK_URL: url('KEYCLOAK_URL'),
  KEYCLOAK_REALM: z.string().min(1).optional(),
  KEYCLOAK_ADMIN_USERNAME: z.string().min(1).optional(),
  KEYCLOAK_ADMIN_PASSWORD: z.string().min(1).optional(),
  DOCTOR_MAX_CLOCK_SKEW_SECONDS: z.coerce
    .number({ error: 'DOCTOR_MAX_CLOCK_SKEW_SECONDS must be a number of seconds' })
    .int()
    .min(0)
    .default(30),
});

export function doctorOptions(env: NodeJS.ProcessEnv, card: StackCard | undefined): DoctorOptions {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SeedError('config_invalid', `${String(issue?.path[0])}: ${issue?.message}`);
  }
  const e = parsed.data;
  const missing = (name: string): never => {
    throw new SeedError('config_invalid', `${name} is not set and there is no stack card to read it from`);
  };
  const mcpUrl = e.MCP_RESOURCE_URL ?? card?.mcpUrl ?? missing('MCP_RESOURCE_URL');
  // OIDC_ISSUER may be a comma list for the MCP server; the doctor checks the first.
  const issuer = (e.OIDC_ISSUER?.split(',')[0] ?? card?.issuer ?? missing('OIDC_ISSUER')).replace(/\/+$/, '');
  const jwksUrl = e.OIDC_JWKS_URL ?? card?.jwksUrl ?? `${issuer}/protocol/openid-connect/certs`;
  const cardUser = card?.users.find((u) => u.roles.length === 0) ?? card?.users[0];
  const user =
    e.DOCTOR_USERNAME && e.DOCTOR_PASSWORD
      ? { username: e.DOCTOR_USERNAME, password: e.DOCTOR_PASSWORD }
      : cardUser && { username: cardUser.username, password: cardUser.password };
  return {
    mcpUrl,
    issuer,
    jwksUrl,
    browserOrigin: new URL(e.DOCTOR_BROWSER_ORIGIN).origin,
    user,
    maxClockSkewSeconds: e.DOCTOR_MAX_CLOCK_SKEW_SECONDS,
    ldap: ldapFromEnv(env),
    broker: brokerFromEnv(env),
    admin:
      e.KEYCLOAK_ADMIN_PASSWORD && (e.KEYCLOAK_URL ?? card?.keycloakUrl)
        ? {
            keycloakUrl: (e.KEYCLOAK_URL ?? card?.keycloakUrl) as string,
            realm: e.KEYCLOAK_REALM ?? card?.realm ?? 'mcp',
            username: e.KEYCLOAK_ADMIN_USERNAME ?? 'admin',
            password: e.KEYCLOAK_ADMIN_PASSWORD,
          }
        : undefined,
  };
}
