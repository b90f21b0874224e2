import { z } from 'zod';

/**
 * What an API key may do. `publish`: POST /v1/messages and cancelling a message. `read`: every GET of the
 * admin API except channel accounts (their config names hosts and users) and keys and the audit log (who
 * may do what is the admin's business), plus reading any user's inbox. `admin`: everything.
 */
export const SCOPES = ['publish', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];
export const scopeSchema = z.enum(SCOPES);

/** `admin` grants every scope; the others grant only themselves. */
export function grants(held: readonly Scope[], needed: Scope): boolean {
  return held.includes('admin') || held.includes(needed);
}

/** Who made a request: an API key, or one of the HERALD_ADMIN_TOKENS (`bootstrap:<n>`, 1-based). */
export interface Principal {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
}
