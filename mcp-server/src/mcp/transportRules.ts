// Step 1 of POST /mcp: the Streamable HTTP header rules (MCP spec 2025-11-25 §Transports), checked before the
// body is read. Result: undefined (go on) or a Refusal (406, 400).
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { Refusal, SERVER_ERROR } from './refusal.ts';

export type TransportRules = (accept: string, protocolVersion: string) => Refusal | undefined;

// Allocated once: the answer does not depend on the request.
const NOT_ACCEPTABLE = new Refusal(
  'not_acceptable',
  406,
  SERVER_ERROR,
  'Not Acceptable: Accept must list application/json and text/event-stream',
);

/** One per route: it keeps a one-entry cache of the last `Accept` it judged. */
export function transportRules(): TransportRules {
  // A client sends the same Accept on every request: remember the last answer instead of splitting it again.
  let lastAccept: string | undefined;
  let lastAccepted = false;

  return function checkTransport(accept, protocolVersion) {
    if (accept !== lastAccept) {
      lastAccepted = acceptsMcpResponses(accept);
      lastAccept = accept;
    }
    if (!lastAccepted) return NOT_ACCEPTABLE;
    // §Protocol Version Header: an invalid or unsupported version → 400. Absent: the client predates the
    // header (2025-03-26 is assumed), which we accept.
    if (protocolVersion && !SUPPORTED_PROTOCOL_VERSIONS.includes(protocolVersion)) {
      return new Refusal(
        'protocol_version_unsupported',
        400,
        SERVER_ERROR,
        `Bad Request: unsupported MCP-Protocol-Version ${JSON.stringify(protocolVersion.slice(0, 40))}; supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
      );
    }
    return undefined;
  };
}

/** `Accept` must allow both JSON and an event stream (spec: the client MUST list both); wildcards count. */
export function acceptsMcpResponses(accept: string): boolean {
  const types = accept
    .toLowerCase()
    .split(',')
    .map((part) => part.split(';')[0]?.trim() ?? '');
  const has = (type: string, family: string) =>
    types.includes(type) || types.includes(`${family}/*`) || types.includes('*/*');
  return has('application/json', 'application') && has('text/event-stream', 'text');
}
