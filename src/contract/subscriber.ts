import { z } from 'zod';
import { userIdSchema } from '../identity/userId';
import { channelSchema, recipientFieldsSchema } from './envelope';
import { templateCategorySchema } from './template';

const MAX_SUBSCRIBER_DATA_BYTES = 16 * 1024;

/** An IANA time zone name the runtime knows ("Europe/Berlin", "Asia/Shanghai", "UTC"). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const timeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isTimeZone, 'must be an IANA time zone like "Europe/Berlin" or "Asia/Shanghai"');

const clockTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'must be a time of day like "22:00" (or "22:00:30")');

/** Seconds after midnight of a clock time as quietHoursSchema takes it ("22:00", "07:30:15"). */
export function clockSeconds(clock: string): number {
  const [h = 0, m = 0, s = 0] = clock.split(':').map(Number);
  return h * 3600 + m * 60 + s;
}

export const quietHoursSchema = z
  .object({ from: clockTime, to: clockTime })
  .strict()
  .refine((q) => clockSeconds(q.from) !== clockSeconds(q.to), { message: 'from and to must differ' })
  .meta({ id: 'QuietHours' })
  .describe(
    "a daily window in the subscriber's timezone (HERALD_QUIET_HOURS_TIMEZONE without one), from inclusive, to exclusive; may span midnight; critical templates ignore it",
  );
export type QuietHours = z.infer<typeof quietHoursSchema>;

const channelSwitches = z.partialRecord(channelSchema, z.boolean());

export const preferencesSchema = z
  .object({
    channels: channelSwitches.default({}).describe('false turns a channel off for everything'),
    categories: z
      .record(
        templateCategorySchema,
        z
          .object({
            enabled: z.boolean().optional().describe('false turns the whole category off'),
            channels: channelSwitches.optional().describe('false turns the category off on that channel'),
          })
          .strict(),
      )
      .default({}),
  })
  .strict()
  .meta({ id: 'Preferences' })
  .describe('on/off switches; anything not switched off is on; critical templates ignore them');
export type Preferences = z.infer<typeof preferencesSchema>;

/** The channel addresses, name and locale a recipient may carry, without the userId (the path's). */
export const subscriberFieldsSchema = recipientFieldsSchema.omit({ userId: true });
export type SubscriberFields = z.infer<typeof subscriberFieldsSchema>;

export const subscriberInputSchema = subscriberFieldsSchema
  .extend({
    timezone: timeZoneSchema.optional(),
    quietHours: quietHoursSchema.optional(),
    data: z
      .record(z.string(), z.unknown())
      .refine((d) => Buffer.byteLength(JSON.stringify(d)) <= MAX_SUBSCRIBER_DATA_BYTES, {
        message: `data must be at most ${MAX_SUBSCRIBER_DATA_BYTES} bytes of JSON`,
      })
      .optional()
      .describe('custom fields, kept and exported, not used for sending'),
  })
  .strict()
  .describe('a subscriber as PUT takes it');
export type SubscriberInput = z.infer<typeof subscriberInputSchema>;

export const bulkSubscribersSchema = z
  .object({
    subscribers: z
      .array(subscriberInputSchema.extend({ userId: userIdSchema }))
      .min(1)
      .max(10_000),
  })
  .strict()
  .refine((b) => new Set(b.subscribers.map((s) => s.userId)).size === b.subscribers.length, {
    message: 'each userId at most once',
    path: ['subscribers'],
  })
  .meta({ id: 'SubscriberBulkUpsert' });
export type BulkSubscribers = z.infer<typeof bulkSubscribersSchema>;

export const subscriberSchema = subscriberFieldsSchema
  .extend({
    userId: z.string(),
    timezone: z.string().nullable(),
    quietHours: quietHoursSchema.nullable(),
    data: z.record(z.string(), z.unknown()).nullable(),
    preferences: preferencesSchema,
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Subscriber' });
export type SubscriberView = z.infer<typeof subscriberSchema>;

export const subscriberListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional().describe('nextCursor of the previous page'),
  email: z.string().min(1).max(320).optional().describe('exact address, case-insensitive'),
});
export type SubscriberListQuery = z.infer<typeof subscriberListQuerySchema>;

export const subscriberListSchema = z
  .object({ items: z.array(subscriberSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'SubscriberList' });
export type SubscriberList = z.infer<typeof subscriberListSchema>;

export const ERASED = '[erased]';
