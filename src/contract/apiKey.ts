import { z } from 'zod';
import { scopeSchema } from '../auth/scopes';

export const apiKeyView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    scopes: z.array(scopeSchema),
    createdAt: z.date(),
    lastUsedAt: z.date().nullable().describe('to within a minute'),
    revokedAt: z.date().nullable(),
  })
  .meta({ id: 'ApiKey' });

export const createApiKeyBody = z
  .object({
    name: z.string().min(1).max(100).describe('what the key is for, e.g. the service that holds it'),
    scopes: z
      .array(scopeSchema)
      .min(1)
      .max(3)
      .describe(
        'publish: POST /v1/messages and cancel. read: the GET routes (messages, deliveries, templates, dead letters, inboxes) and template preview; not channel accounts, keys or the audit log. admin: everything.',
      ),
  })
  .strict();

export const createdApiKeyView = apiKeyView
  .extend({
    key: z
      .string()
      .describe('the key, starting with hk_: shown in this answer only, Herald keeps its SHA-256 alone'),
  })
  .meta({ id: 'CreatedApiKey' });
