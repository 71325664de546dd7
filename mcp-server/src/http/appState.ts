// Per-request data every middleware may read (Koa's ctx.state), typed in one place.
import type { Logger } from 'pino';
import type { BearerAuthState } from '../auth/bearerAuth.ts';

export interface AppState extends BearerAuthState {
  requestId: string;
  log: Logger;
}
