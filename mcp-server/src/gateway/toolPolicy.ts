// Which tools of an upstream a caller may see and call, from the upstreams file: allow/deny lists, then rules
// (scopes, realm roles) for the tools they match. Compiled once per upstream; decided before the upstream is
// contacted, with the same AccessRule/authorize as the built-in tools.
import { accessRule, authorize, type AccessRule, type Decision } from '../auth/authorize.ts';
import type { VerifiedToken } from '../auth/verifiedToken.ts';
import type { UpstreamSpec } from './upstreamsFile.ts';

export type ToolVerdict =
  /** Not offered through the gateway (not allowed, or denied): no token can change that. */
  { readonly offered: false } | { readonly offered: true; readonly decision: Decision };

export interface ToolPolicy {
  /** What a call to `tool` gets for this token. */
  judge(token: Pick<VerifiedToken, 'scopes' | 'roles'>, tool: string): ToolVerdict;
  /** tools/list shows a caller only what judge() would let them call. */
  visible(token: Pick<VerifiedToken, 'scopes' | 'roles'>, tool: string): boolean;
}

const NOT_OFFERED: ToolVerdict = Object.freeze({ offered: false });

/** `*` matches any run of characters; everything else literally. */
export function toolPattern(pattern: string): RegExp {
  const literal = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&'));
  return new RegExp(`^${literal.join('.*')}$`);
}

/**
 * `requestRule` is the upstream's own rule (checked by bearerAuth on every request): a tool rule names its
 * scopes in the step-up challenge but does not check them again.
 */
export function toolPolicy(spec: Pick<UpstreamSpec, 'name' | 'tools'>, requestRule: AccessRule): ToolPolicy {
  const allow = spec.tools.allow.map(toolPattern);
  const deny = spec.tools.deny.map(toolPattern);
  const rules = spec.tools.rules.map((rule) => ({
    patterns: (Array.isArray(rule.match) ? rule.match : [rule.match]).map(toolPattern),
    scopes: rule.scopes,
    roles: rule.roles,
  }));
  // A tool's rule depends only on its name: compile it on first use, keep it (names come from the upstream's
  // own tools/list, or from callers — bounded so a caller inventing names cannot grow the map without end).
  const compiled = new Map<string, AccessRule | null>();
  const MAX_COMPILED = 10_000;

  function ruleFor(tool: string): AccessRule | null {
    const known = compiled.get(tool);
    if (known !== undefined) return known;
    let result: AccessRule | null = null;
    const offered = allow.some((re) => re.test(tool)) && !deny.some((re) => re.test(tool));
    if (offered) {
      // Every matching rule applies: their scopes and roles add up.
      const matching = rules.filter((rule) => rule.patterns.some((re) => re.test(tool)));
      const scopes = [...new Set([...requestRule.scope.split(' '), ...matching.flatMap((r) => r.scopes)])];
      const roles = [...new Set(matching.flatMap((r) => r.roles))];
      result = accessRule({
        scopes,
        roles,
        within: requestRule,
        insufficientScope: `the ${tool} tool of ${spec.name} needs the scopes: ${scopes.join(' ')}`,
      });
    }
    if (compiled.size < MAX_COMPILED) compiled.set(tool, result);
    return result;
  }

  return {
    judge(token, tool) {
      const rule = ruleFor(tool);
      return rule === null ? NOT_OFFERED : { offered: true, decision: authorize(token, rule) };
    },
    visible(token, tool) {
      const rule = ruleFor(tool);
      return rule !== null && authorize(token, rule).allowed;
    },
  };
}
