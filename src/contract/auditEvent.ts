import { z } from 'zod';
import { AUDIT_ACTIONS, AUDIT_TARGET_TYPES } from '../audit/auditLog';
import { pageQuery } from './deliveryViews';

export const auditEventView = z
  .object({
    id: z.uuid(),
    at: z.date(),
    actor: z.object({
      id: z
        .string()
        .describe('an API key id, bootstrap:<n> for the nth HERALD_ADMIN_TOKENS entry, or cli:<user>'),
      name: z.string(),
    }),
    action: z.enum(AUDIT_ACTIONS),
    target: z.object({ type: z.enum(AUDIT_TARGET_TYPES), id: z.string() }),
    before: z.unknown().describe('the target as the API showed it before the change (templates, accounts)'),
    after: z.unknown().describe('the target as the API showed it after the change'),
    detail: z
      .unknown()
      .describe(
        'what else says what happened: secretsChanged (names only) for accounts, purged for a purge, …',
      ),
    requestId: z.string().nullable().describe('the x-request-id of the request, as in the log'),
  })
  .meta({ id: 'AuditEvent' });

export const auditQuery = pageQuery.extend({
  actor: z.string().max(200).optional().describe('actor id: a key id, bootstrap:<n> or cli:<user>'),
  targetType: z.enum(AUDIT_TARGET_TYPES).optional(),
  targetId: z.string().max(200).optional(),
  since: z.iso.datetime({ offset: true }).optional().describe('at or after (ISO 8601)'),
});
