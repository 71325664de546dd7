// Client capacity: room for new registrations under the realm's anonymous max-clients (clientCapacity.ts reads
// and judges it through the admin API; without admin credentials the check is skipped).
import { CheckFailed, defineCheck, Skip, Warning } from '../check.ts';
import { judgeCapacity, readClientCapacity } from '../clientCapacity.ts';

export const clientCapacity = defineCheck({
  id: 'client-capacity',
  needs: [],
  fallbackFix: 'check KEYCLOAK_URL and the admin credentials',
  async run({ admin }) {
    if (!admin) throw new Skip('no admin credentials (KEYCLOAK_ADMIN_USERNAME/PASSWORD)');
    const verdict = judgeCapacity(await readClientCapacity(admin));
    if (verdict.status === 'fail') throw new CheckFailed(verdict.detail, verdict.fix ?? '');
    if (verdict.status === 'warn') throw new Warning(verdict.detail, verdict.fix ?? '');
    return { detail: verdict.detail };
  },
});
