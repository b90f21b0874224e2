import { z } from 'zod';
import { ATTEMPT_OUTCOMES, DELIVERY_STATUSES, MESSAGE_STATUSES } from '../delivery/statuses';
import { CHANNELS } from './envelope';

export { DELIVERY_STATUSES, MESSAGE_STATUSES };

export const attemptView = z
  .object({
    id: z.string(),
    attempt: z.number().int(),
    outcome: z.enum(ATTEMPT_OUTCOMES),
    providerId: z.string().nullable(),
    errorCode: z.string().nullable(),
    errorText: z.string().nullable(),
    durationMs: z.number().int(),
    createdAt: z.date(),
  })
  .meta({ id: 'DeliveryAttempt' });

export const deliveryView = z
  .object({
    id: z.string(),
    messageId: z.string(),
    channel: z.enum(CHANNELS),
    recipientIndex: z
      .number()
      .int()
      .nullable()
      .describe("position in the envelope's `to`; -1 for a robot's group post; null for a topic member"),
    recipientKey: z
      .string()
      .describe(
        'who it is for, unique per message and channel: user:<id>, address:<address>, group, index:<n>',
      ),
    userId: z.string().nullable(),
    email: z.string().nullable(),
    templateCode: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    reason: z
      .string()
      .nullable()
      .describe(
        'why it is skipped, deferred, failed or retrying: preference, deduplicated, throttled, quiet_hours, a missing address, the error',
      ),
    nextAttemptAt: z
      .date()
      .nullable()
      .describe('retrying: when the next attempt is due; deferred: when quiet hours end and it is sent'),
    seenAt: z.date().nullable().describe('in-site: when the user first saw the item in a list'),
    readAt: z.date().nullable().describe('in-site: when the user first read (opened) the item'),
    actionedAt: z.date().nullable().describe("in-site: when the user took one of the item's actions"),
    action: z.string().nullable().describe('the key of that action'),
    digestMessageId: z
      .string()
      .nullable()
      .optional()
      .describe('status digested: the digest message this delivery went into'),
    cause: z
      .string()
      .nullable()
      .optional()
      .describe('why a delivery added later exists: "escalation: …" or "fallback: …"'),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .meta({ id: 'Delivery' });

export const messageView = z
  .object({
    id: z.string(),
    templateCode: z.string().nullable(),
    templateVersion: z.number().int().nullable(),
    status: z.enum(MESSAGE_STATUSES),
    reason: z.string().nullable(),
    source: z.string().nullable(),
    traceId: z
      .string()
      .nullable()
      .describe("the envelope's meta.traceId, else the W3C trace id it came in on (while Herald traces)"),
    recipientCount: z.number().int(),
    sendAt: z.date().nullable().describe('when a scheduled message is (or was) due'),
    acceptedAt: z
      .date()
      .nullable()
      .describe("when it was accepted for sending: its topics' membership as of then"),
    createdAt: z.date(),
    updatedAt: z.date(),
    deliveries: z.array(deliveryView.extend({ attemptLog: z.array(attemptView) })),
  })
  .meta({ id: 'Message' });

/** A message as lists show it: without its deliveries (GET /v1/messages/:id has them). */
export const messageSummaryView = messageView.omit({ deliveries: true }).meta({ id: 'MessageSummary' });

export const deadLetterView = z
  .object({
    id: z.string(),
    messageId: z.string().nullable(),
    routingKey: z.string().nullable(),
    code: z.string(),
    reason: z.string(),
    payload: z.string(),
    payloadEncoding: z.enum(['utf8', 'base64']),
    createdAt: z.date(),
    replayedAt: z.date().nullable(),
  })
  .meta({ id: 'DeadLetter' });

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
});
