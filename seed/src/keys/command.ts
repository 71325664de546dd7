// `npm run seed -- keys list | rotate | retire` (see signingKeys.ts for the procedure).
import { openAdminSession } from '../adminSession.ts';
import type { SeedConfig } from '../config.ts';
import { SeedError } from '../errors.ts';
import { waitForKeycloak } from '../waitForKeycloak.ts';
import { listSigningKeys, retireOldSigningKeys, rotateSigningKey, type SigningKey } from './signingKeys.ts';

const HELP = `keys list     the realm's RS256 signing keys, highest priority (the signing one) first
keys rotate   add a new RS256 key with a higher priority: it signs new tokens at once; old tokens stay valid
keys retire   remove every RS256 key but the signing one: run it when the access-token lifespan has passed
              since "rotate" (tokens signed by an old key are refused once servers' JWKS caches expire)`;

const line = (k: SigningKey) => `${k.kid}  priority ${k.priority}  ${k.status}  ${k.providerName}`;

export async function runKeysCommand(
  config: SeedConfig,
  args: string[],
  say: (line: string) => void,
): Promise<void> {
  const [sub = 'help'] = args;
  if (sub === 'help') {
    console.log(HELP);
    return;
  }
  if (!['list', 'rotate', 'retire'].includes(sub)) {
    throw new SeedError('config_invalid', `unknown keys command "${sub}"\n${HELP}`);
  }
  await waitForKeycloak(config.KEYCLOAK_URL, config.SEED_WAIT_SECONDS, say);
  const admin = await openAdminSession(config);
  const realm = config.KEYCLOAK_REALM;
  if (sub === 'rotate') {
    const key = await rotateSigningKey(admin, realm);
    say(`new signing key ${key.kid} (priority ${key.priority}); old keys stay published until "keys retire"`);
  } else if (sub === 'retire') {
    const removed = await retireOldSigningKeys(admin, realm);
    say(removed.length ? `removed ${removed.map((k) => k.kid).join(', ')}` : 'no old signing key to remove');
  }
  for (const key of await listSigningKeys(admin, realm)) say(line(key));
}
