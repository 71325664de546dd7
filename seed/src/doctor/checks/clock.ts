// Clock skew: the Date headers Keycloak and the MCP server sent during discovery and the token's iat, against
// this machine's clock. Tokens are refused as not yet valid or expired when the hosts' clocks drift apart.
import { CheckFailed, defineCheck, Skip } from '../check.ts';

export const clock = defineCheck({
  id: 'clock',
  needs: ['keycloakDate', 'mcpDate', 'tokens'],
  fallbackFix: 'synchronise the clocks (NTP)',
  async run({ now, maxClockSkewSeconds }, { keycloakDate, mcpDate, tokens }) {
    const local = now();
    const skews: string[] = [];
    let worst = 0;
    const compare = (name: string, at: number | undefined) => {
      if (at === undefined || Number.isNaN(at)) return;
      const seconds = Math.round((at - local) / 1000);
      worst = Math.max(worst, Math.abs(seconds));
      skews.push(`${name} ${seconds >= 0 ? '+' : ''}${seconds}s`);
    };
    compare('Keycloak', keycloakDate);
    compare('MCP server', mcpDate);
    const iat = tokens?.claims.iat;
    if (typeof iat === 'number') compare('token iat', iat * 1000);
    if (skews.length === 0) throw new Skip('no Date header or token to compare with');
    if (worst > maxClockSkewSeconds) {
      throw new CheckFailed(
        `clocks differ by up to ${worst}s (${skews.join(', ')}; allowed ${maxClockSkewSeconds}s)`,
        'synchronise the clocks (NTP) of the Keycloak and MCP server hosts: tokens are refused as not yet ' +
          'valid or expired',
      );
    }
    return { detail: `within ${maxClockSkewSeconds}s (${skews.join(', ')})` };
  },
});
