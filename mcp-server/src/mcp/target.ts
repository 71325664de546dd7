// Step 3 of POST /mcp: what a request asks for and which access rule guards it. Today every target is a
// method or a tool of the one in-process McpServer; this is where a gateway resolves "which upstream, which
// tool policy" — a ToolTarget would then name its upstream too.
import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { accessRule, type AccessRule } from '../auth/authorize.ts';
import type { ToolAccess } from './toolAccess.ts';

/** A declared tool: built once at startup and shared by every call to it. */
export interface ToolTarget {
  readonly kind: 'tool';
  readonly name: string;
  /** Checked on top of the request-level rule bearerAuth already decided. */
  readonly rule: AccessRule;
}

export type Target =
  | ToolTarget
  /** tools/call for a tool nobody declared: never dispatched (fail closed). */
  | { readonly kind: 'unknown_tool'; readonly name: string }
  /** Any other method (initialize, tools/list, ping, …): needs only the request-level rule. */
  | { readonly kind: 'method' };

export type ToolTargets = ReadonlyMap<string, ToolTarget>;

const METHOD: Target = Object.freeze({ kind: 'method' });

/**
 * The tool table with each rule compiled once. `requestRule` is bearerAuth's: its scopes are named in a
 * tool's challenge but not checked again on every call.
 */
export function toolTargets(
  toolAccess: ReadonlyMap<string, ToolAccess>,
  requestRule: AccessRule,
): ToolTargets {
  const targets = new Map<string, ToolTarget>();
  for (const [name, access] of toolAccess) {
    const rule = accessRule({
      scopes: access.scopes,
      roles: access.roles,
      within: requestRule,
      insufficientScope: `the ${name} tool needs the scopes: ${access.scopes.join(' ')}`,
    });
    targets.set(name, Object.freeze({ kind: 'tool', name, rule }));
  }
  return targets;
}

/** Allocates only for an unknown tool; a known tool and a plain method get shared objects. */
export function resolveTarget(request: JSONRPCRequest, tools: ToolTargets): Target {
  if (request.method !== 'tools/call') return METHOD;
  const name = (request.params as { name?: unknown } | undefined)?.name;
  const tool = typeof name === 'string' ? tools.get(name) : undefined;
  return tool ?? { kind: 'unknown_tool', name: String(name) };
}
