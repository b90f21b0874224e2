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
    recipientIndex: z.number().int(),
    userId: z.string().nullable(),
    email: z.string().nullable(),
    templateCode: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    reason: z.string().nullable(),
    nextAttemptAt: z.date().nullable(),
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
    traceId: z.string().nullable(),
    recipientCount: z.number().int(),
    sendAt: z.date().nullable().describe('when a scheduled message is (or was) due'),
    createdAt: z.date(),
    updatedAt: z.date(),
    deliveries: z.array(deliveryView.extend({ attemptLog: z.array(attemptView) })),
  })
  .meta({ id: 'Message' });

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
