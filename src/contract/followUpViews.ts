import { z } from 'zod';
import {
  DELIVERY_STATUSES,
  DIGEST_STATES,
  ESCALATION_STATES,
  FALLBACK_STATES,
  MESSAGE_STATUSES,
} from '../delivery/statuses';
import { CHANNELS } from './envelope';
import { escalateSchema } from './templatePolicy';

/** GET /v1/digests: a digest bucket, what it collected and, once flushed, what its digest message did. */
export const digestView = z
  .object({
    id: z
      .string()
      .describe("the digest message's id (derived from template, recipient or group, key, window start)"),
    kind: z
      .enum(['window', 'rate_limit'])
      .describe(
        'a template digest window, or robot posts merged while the rate budget was spent (digest.onRateLimit)',
      ),
    templateCode: z.string(),
    scope: z.string().describe('"recipient", or the group channel (a robot) whose one post this is'),
    userId: z.string().nullable().describe('a recipient digest keyed by user id: that user'),
    email: z.string().nullable().describe('a recipient digest keyed by address: that address'),
    recipients: z
      .number()
      .int()
      .describe('how many recipients the digest goes to (a group post: those it mentions)'),
    key: z.string().describe("the value of the template's digest.key for these events ('' without one)"),
    channels: z.array(z.string()).describe('the channels it goes out on'),
    windowStart: z.date(),
    closesAt: z.date().describe("the window's end"),
    dueAt: z
      .date()
      .nullable()
      .describe('when the flush is due (the window end, or at once when it filled up); null once flushed'),
    closedAt: z.date().nullable().describe('when it closed: no event joins it after this'),
    events: z.number().int().describe('events collected so far'),
    state: z.enum(DIGEST_STATES),
    message: z
      .object({
        id: z.string(),
        status: z.enum(MESSAGE_STATUSES),
        deliveries: z.array(
          z.object({ channel: z.enum(CHANNELS), status: z.enum(DELIVERY_STATUSES), count: z.number().int() }),
        ),
      })
      .nullable()
      .describe(
        'state flushed: the digest message, its status and its deliveries by channel and status (GET /v1/messages/:id has them)',
      ),
    createdAt: z.date(),
  })
  .meta({ id: 'Digest' });

export const digestDetailView = digestView
  .extend({
    collected: z
      .array(
        z.object({
          id: z.string(),
          messageId: z.string(),
          channel: z.enum(CHANNELS),
          userId: z.string().nullable(),
          status: z
            .enum(DELIVERY_STATUSES)
            .describe('digested; cancelled when its message was cancelled while the digest was open'),
          createdAt: z.date(),
        }),
      )
      .describe('the deliveries collected, oldest first (the first 500)'),
  })
  .meta({ id: 'DigestDetail' });

const followUpDelivery = z.object({
  id: z.string(),
  channel: z.enum(CHANNELS),
  recipientIndex: z.number().int().nullable(),
  userId: z.string().nullable(),
  status: z.enum(DELIVERY_STATUSES),
  reason: z.string().nullable(),
  cause: z
    .string()
    .nullable()
    .describe('set on a delivery an escalation or a fallback added: "escalation: …", "fallback: …"'),
  readAt: z.date().nullable(),
  updatedAt: z.date(),
});

/** GET /v1/escalations: a message whose template escalates or falls back, and where that stands. */
export const escalationView = z
  .object({
    messageId: z.string(),
    templateCode: z.string(),
    templateVersion: z.number().int(),
    messageStatus: z.enum(MESSAGE_STATUSES),
    escalation: escalateSchema
      .extend({
        watching: z
          .enum(CHANNELS)
          .nullable()
          .describe('the first channel whose state the check looks at (a readable one for unless: read)'),
        dueAt: z.date().nullable().describe('pending: when the check runs (dispatch + after)'),
        attempts: z
          .number()
          .int()
          .describe('pending: how often the check was claimed (more than 1 after a failure)'),
        lastError: z.string().nullable().describe('pending: why the last try failed'),
        state: z.enum(ESCALATION_STATES),
      })
      .nullable(),
    fallback: z.object({ channels: z.array(z.enum(CHANNELS)), state: z.enum(FALLBACK_STATES) }).nullable(),
    deliveries: z
      .array(followUpDelivery)
      .describe(
        "the direct recipients' deliveries and those added later (the first 50; not a topic's members)",
      ),
    createdAt: z.date(),
  })
  .meta({ id: 'Escalation' });
