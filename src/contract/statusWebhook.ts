import { z } from 'zod';
import { EVENT_TYPES } from '../events/eventTypes';
import { uuidSchema } from '../identity/uuid';

export const eventTypeSchema = z.enum(EVENT_TYPES);

const writeShape = {
  url: z.string().url().max(2000).describe('https, or http for a host in HERALD_STATUS_WEBHOOK_ALLOW_HOSTS'),
  description: z.string().max(500).optional(),
  events: z.array(eventTypeSchema).min(1).max(EVENT_TYPES.length).describe('the event types to receive'),
  templates: z
    .array(z.string().min(1).max(100))
    .max(100)
    .default([])
    .describe('template codes to receive events of; empty: every template'),
};

export const createWebhookBodySchema = z
  .object({
    ...writeShape,
    secret: z.string().min(16).max(256).describe('the HMAC-SHA256 signing key (write-only: never returned)'),
  })
  .strict()
  .meta({ id: 'StatusWebhookCreate' });

export const replaceWebhookBodySchema = z
  .object({
    ...writeShape,
    secret: z
      .string()
      .min(16)
      .max(256)
      .optional()
      .describe('a new signing key; omitted: the stored one stays'),
    enabled: z
      .boolean()
      .optional()
      .describe('true re-enables a disabled endpoint (its failure count restarts); false pauses it'),
  })
  .strict()
  .meta({ id: 'StatusWebhookReplace' });

export const webhookIdSchema = uuidSchema;

// No secret field exists here, so the serializer strips one even if a bug passed it along.
export const webhookViewSchema = z
  .object({
    id: z.string(),
    url: z.string().describe('credential query parameters redacted'),
    description: z.string().nullable(),
    events: z.array(eventTypeSchema),
    templates: z.array(z.string()),
    secretSet: z.literal(true),
    enabled: z.boolean(),
    disabledReason: z.string().nullable(),
    disabledAt: z.iso.datetime().nullable(),
    consecutiveFailures: z.number().int(),
    cursor: z.number().int().describe('seq of the last event handled'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'StatusWebhook' });

export const webhookListSchema = z
  .object({ items: z.array(webhookViewSchema) })
  .meta({ id: 'StatusWebhookList' });

export const webhookAttemptSchema = z
  .object({
    id: z.string(),
    eventId: z.string(),
    eventType: z.string(),
    messageId: z.string().nullable(),
    attempt: z.number().int(),
    outcome: z.enum(['delivered', 'failed']),
    statusCode: z.number().int().nullable(),
    error: z.string().nullable(),
    durationMs: z.number().int(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'StatusWebhookAttempt' });

export const webhookAttemptQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export const webhookAttemptPageSchema = z
  .object({ items: z.array(webhookAttemptSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'StatusWebhookAttemptPage' });

/** The JSON body of one status-webhook request. */
export const statusEventBodySchema = z
  .object({
    id: z.string().describe('the event id: unique, the same on every retry (deduplicate on it)'),
    type: eventTypeSchema,
    seq: z.number().int().describe('order in the event log'),
    occurredAt: z.iso.datetime(),
    messageId: z.string().nullable(),
    deliveryId: z.string().nullable(),
    templateCode: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'StatusEvent' });

export type CreateWebhookBody = z.infer<typeof createWebhookBodySchema>;
export type ReplaceWebhookBody = z.infer<typeof replaceWebhookBodySchema>;
export type WebhookView = z.infer<typeof webhookViewSchema>;
export type WebhookAttemptView = z.infer<typeof webhookAttemptSchema>;
export type StatusEventBody = z.infer<typeof statusEventBodySchema>;
