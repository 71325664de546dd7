// Why a forwarded request got no answer from its upstream. `code` is stable (audit lines, metrics, tests key
// on it); the message names the upstream, never its address, and is safe to send to the caller.
export type UpstreamErrorCode = 'upstream_unavailable' | 'upstream_timeout' | 'upstream_failed' | 'cancelled';

export class UpstreamError extends Error {
  constructor(
    readonly code: UpstreamErrorCode,
    readonly upstream: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`upstream ${upstream} ${detail}`, options);
    this.name = 'UpstreamError';
  }
}
