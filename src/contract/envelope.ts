import { z } from 'zod';
import { recipientShapeOf } from '../senders/channelSet';
import { CHANNEL_NAMES, channels, type ChannelName } from '../senders/registry';
import { findNul, NUL_MESSAGE } from './nulCharacter';
import { DURATION_PATTERN, parseDuration } from './duration';

export const CHANNELS = CHANNEL_NAMES;
export const channelSchema = z.enum(CHANNELS);
export type { ChannelName };

const MAX_DATA_BYTES = 64 * 1024;

/** How far ahead a send may be scheduled. */
export const MAX_SCHEDULE_AHEAD_MS = 365 * 86_400_000;

/** Deeper data or meta would overflow JSON.stringify or PostgreSQL's jsonb parser long before 64 KiB. */
const MAX_DATA_DEPTH = 32;

/** Whether `value` nests objects or arrays more than `levels` deep; looks no deeper than that. */
function nestedDeeperThan(value: unknown, levels: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (levels === 0) return true;
  return Object.values(value).some((v) => nestedDeeperThan(v, levels - 1));
}

/** Every channel's recipient fields (its addresses), then name and locale. */
const addressShape = recipientShapeOf(channels);
const ADDRESS_FIELDS = Object.keys(addressShape);

/** A recipient's fields; preview takes them without the at-least-one-address rule. */
export const recipientFieldsSchema = z
  .object({
    ...addressShape,
    name: z.string().max(200).optional(),
    locale: z.string().min(2).max(35).optional(),
  })
  .strict();

export const recipientSchema = recipientFieldsSchema
  .refine((r) => Object.entries(r).some(([k, v]) => ADDRESS_FIELDS.includes(k) && Boolean(v)), {
    message: `a recipient needs at least one address: ${ADDRESS_FIELDS.join(', ')}`,
  })
  // The refinement, as JSON Schema says it (an address is a non-empty string).
  .meta({ id: 'Recipient', anyOf: ADDRESS_FIELDS.map((f) => ({ required: [f] })) });
export type Recipient = z.infer<typeof recipientSchema>;

export const topicKeySchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9_.:-]*$/i, 'must start with a letter or digit, then letters, digits, _ . : -')
  .describe('a topic key, e.g. "ops-oncall"');

/** Everyone subscribed to a topic when the message is accepted (see POST /v1/topics). */
export const topicRefSchema = z.object({ topic: topicKeySchema }).strict().meta({ id: 'TopicRef' });
export type TopicRef = z.infer<typeof topicRefSchema>;

export const MAX_TOPICS = 20;

/** Recipients and topics, mixed; or one topic alone. */
const audienceSchema = z
  .union([
    z
      .array(z.union([recipientSchema, topicRefSchema]))
      .min(1)
      .max(1000),
    topicRefSchema,
  ])
  .refine((to) => !Array.isArray(to) || to.filter((t) => 'topic' in t).length <= MAX_TOPICS, {
    message: `at most ${MAX_TOPICS} topics per envelope`,
  })
  .describe(
    'recipients, each with at least one address or a userId whose stored addresses are used; `{ topic }` entries (or one `{ topic }` alone) reach every member of the topic once',
  );

/** Envelope v1: the contract business services publish against (DESIGN.md). */
export const envelopeSchema = z
  .object({
    id: z.string().min(1).max(128).describe('idempotency key: the same id published twice is one message'),
    template: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'must be a template code'),
    to: audienceSchema,
    data: z
      .record(z.string(), z.unknown())
      .default({})
      .refine((d) => !nestedDeeperThan(d, MAX_DATA_DEPTH), {
        message: `data must not nest objects or arrays more than ${MAX_DATA_DEPTH} levels deep`,
        abort: true,
      })
      .refine((d) => Buffer.byteLength(JSON.stringify(d)) <= MAX_DATA_BYTES, {
        message: `data must be at most ${MAX_DATA_BYTES} bytes of JSON`,
      }),
    channels: z.array(channelSchema).min(1).optional().describe("a subset of the template's channels"),
    locale: z.string().min(2).max(35).optional(),
    atAll: z.boolean().optional().describe('group posts: @ everyone in the group'),
    meta: z
      .record(z.string(), z.unknown())
      .refine((m) => !nestedDeeperThan(m, MAX_DATA_DEPTH), {
        message: `meta must not nest objects or arrays more than ${MAX_DATA_DEPTH} levels deep`,
      })
      .optional()
      .describe('carried into logs, e.g. source and traceId'),
    sendAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe(
        'send at this time (ISO 8601 with offset); a time in the past sends at once; at most a year ahead',
      ),
    delay: z
      .string()
      .regex(DURATION_PATTERN, 'must be a duration like 90s, 15m, 2h or 7d')
      .optional()
      .describe('send this long after Herald first takes the envelope; at most a year'),
  })
  .strict()
  .superRefine((env, ctx) => {
    const at = findNul(env);
    if (at) ctx.addIssue({ code: 'custom', path: at, message: NUL_MESSAGE });
  })
  .refine((e) => !(e.sendAt && e.delay), { message: 'give sendAt or delay, not both', path: ['delay'] })
  .refine((e) => !e.sendAt || Date.parse(e.sendAt) <= Date.now() + MAX_SCHEDULE_AHEAD_MS, {
    message: 'sendAt may be at most a year ahead',
    path: ['sendAt'],
  })
  .refine(
    (e) => !e.delay || !DURATION_PATTERN.test(e.delay) || parseDuration(e.delay) <= MAX_SCHEDULE_AHEAD_MS,
    {
      message: 'delay may be at most a year',
      path: ['delay'],
    },
  )
  .meta({
    id: 'EnvelopeV1',
    not: { required: ['sendAt', 'delay'] },
    description: 'no string may hold a NUL character; sendAt or delay, not both, at most a year ahead',
  });

export type Envelope = z.infer<typeof envelopeSchema>;
/** What a publisher passes in (data may be omitted). */
export type EnvelopeInput = z.input<typeof envelopeSchema>;

/** Routing key an envelope is published with on the `herald` exchange. */
export const routingKeyFor = (template: string): string => `notify.${template}`;

export interface Audience {
  /** The envelope's recipients with their position in `to`. */
  recipients: Array<{ index: number; recipient: Recipient }>;
  /** Topic keys, each once. */
  topics: string[];
}

/** The envelope's `to` split into recipients (with their position) and topics. */
export function audienceOf(env: Pick<Envelope, 'to'>): Audience {
  const entries = Array.isArray(env.to) ? env.to : [env.to];
  const recipients: Audience['recipients'] = [];
  const topics = new Set<string>();
  entries.forEach((e, index) => {
    if ('topic' in e) topics.add(e.topic);
    else recipients.push({ index, recipient: e });
  });
  return { recipients, topics: [...topics] };
}
