// The seed's only reader of the environment. Every variable is validated; messages name the variable.
import { z } from 'zod';
import { SeedError } from './errors.ts';

const url = (name: string) =>
  z
    .string()
    .refine((value) => /^https?:\/\/[^\s]+$/.test(value), `${name} must be an absolute http(s) URL`)
    .transform((value) => value.replace(/\/+$/, ''));

const optionalSecret = (name: string) =>
  z
    .string()
    .min(12, `${name} must be at least 12 characters (the realm's password policy)`)
    .optional()
    .or(z.literal('').transform(() => undefined));

const schema = z.object({
  KEYCLOAK_URL: url('KEYCLOAK_URL').default('http://localhost:8080'),
  KEYCLOAK_REALM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'KEYCLOAK_REALM must be a realm name')
    .default('mcp'),
  KEYCLOAK_ADMIN_USERNAME: z.string().min(1, 'KEYCLOAK_ADMIN_USERNAME must not be empty').default('admin'),
  KEYCLOAK_ADMIN_PASSWORD: z.string({ error: 'KEYCLOAK_ADMIN_PASSWORD is required' }).min(1, {
    error: 'KEYCLOAK_ADMIN_PASSWORD must not be empty',
  }),
  STACK_CARD_PATH: z.string().min(1).default('.stack/stack.json'),
  SEED_WAIT_SECONDS: z.coerce
    .number({ error: 'SEED_WAIT_SECONDS must be a number' })
    .int()
    .min(0)
    .max(3600)
    .default(120),
  SEED_ALICE_PASSWORD: optionalSecret('SEED_ALICE_PASSWORD'),
  SEED_BOB_PASSWORD: optionalSecret('SEED_BOB_PASSWORD'),
  SEED_M2M_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/, 'SEED_M2M_CLIENT_ID may hold letters, digits and _ . : - only')
    .default('mcp-m2m'),
});

export type SeedConfig = Readonly<z.infer<typeof schema>>;

export function loadSeedConfig(env: NodeJS.ProcessEnv = process.env): SeedConfig {
  const parsed = schema.safeParse(env);
  if (parsed.success) return Object.freeze(parsed.data);
  const issue = parsed.error.issues[0];
  const variable = String(issue?.path[0] ?? 'environment');
  const message = issue?.message ?? 'invalid';
  throw new SeedError('config_invalid', message.includes(variable) ? message : `${variable}: ${message}`);
}
