import { randomBytes } from 'node:crypto';

/** 144 random bits, URL-safe: passes the realm's length(12) policy and survives copy-paste. */
export function generateSecret(): string {
  return randomBytes(18).toString('base64url');
}
