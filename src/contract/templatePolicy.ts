import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './duration';
import { CHANNELS } from './envelope';

/**
 * How a template's messages go out over time (issue 14): kept in a block of its own, spread into the
 * template schemas with `...templatePolicyShape`, and stored as TemplateVersion.policy.
 */

const windowSchema = z
  .string()
  .regex(DURATION_PATTERN, 'must be a duration like 30s, 10m or 1h')
  .refine((w) => parseDuration(w) >= 1000 && parseDuration(w) <= 7 * 86_400_000, {
    message: 'must be between 1s and 7d',
  });

export const digestSchema = z
  .object({
    window: windowSchema
      .optional()
      .describe('how long a digest collects from its first event, e.g. "10m"; required unless onRateLimit'),
    key: z
      .string()
      .min(1)
      .max(500)
      .optional()
      .describe(
        'a Liquid expression over data (e.g. "project.id"): envelopes with different values collect apart',
      ),
    maxEvents: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe('flush as soon as this many events are collected'),
    onRateLimit: z
      .boolean()
      .optional()
      .describe(
        "send robot posts one by one, but while the robot's rate budget is spent merge the waiting posts of this template into one post (events, count) sent when the budget frees a slot; without a window",
      ),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.onRateLimit) {
      // With a window every post is a digest already; merging digests again would nest their events.
      for (const field of ['window', 'key', 'maxEvents'] as const)
        if (d[field] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: `digest.onRateLimit merges the posts a template sends one by one: leave out ${field}`,
          });
    } else if (d.window === undefined)
      ctx.addIssue({ code: 'custom', path: ['window'], message: 'required (unless onRateLimit is true)' });
  })
  .meta({ id: 'TemplateDigest' });
export type DigestSpec = z.infer<typeof digestSchema>;

export const ESCALATION_CONDITIONS = ['read', 'delivered', 'sent'] as const;

export const escalateSchema = z
  .object({
    after: windowSchema.describe('how long to wait for the condition, e.g. "30m"'),
    unless: z
      .enum(ESCALATION_CONDITIONS)
      .describe(
        'read: the in-site item was read; delivered / sent: the first channel (template order) got that far',
      ),
    channels: z
      .array(z.enum(CHANNELS))
      .min(1)
      .describe('sent only when the condition is not met in time; not sent at first'),
  })
  .strict()
  .meta({ id: 'TemplateEscalation' });
export type EscalateSpec = z.infer<typeof escalateSchema>;

export const throttleSchema = z
  .object({
    limit: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .describe('deliveries let through per recipient, channel and key'),
    window: windowSchema.describe('in any window this long, e.g. "1m"; the rest are skipped as throttled'),
    key: z
      .string()
      .min(1)
      .max(500)
      .optional()
      .describe('a Liquid expression over data (e.g. "project.id"): each value has a budget of its own'),
  })
  .strict()
  .meta({ id: 'TemplateThrottle' });
export type ThrottleSpec = z.infer<typeof throttleSchema>;

export const dedupeSchema = z
  .object({
    window: windowSchema.describe(
      'a delivery with the same rendered content as one to the same recipient and channel this long ago is skipped as deduplicated',
    ),
  })
  .strict()
  .meta({ id: 'TemplateDedupe' });
export type DedupeSpec = z.infer<typeof dedupeSchema>;

/** The names a digest's parts may use beside the declared variables. */
export const DIGEST_VARIABLES = ['events', 'count'] as const;

export const templatePolicyShape = {
  escalate: escalateSchema
    .optional()
    .describe('send more channels later when the first ones were not read (delivered, sent) in time'),
  fallback: z
    .array(z.enum(CHANNELS))
    .min(1)
    .optional()
    .describe('channels sent to a recipient only when another channel failed permanently for them'),
  digest: digestSchema
    .optional()
    .describe(
      'collect envelopes per recipient (per group for robot channels) and key, then send one message with events and count',
    ),
  throttle: throttleSchema
    .optional()
    .describe(
      'at most `limit` deliveries per recipient (group for robot channels), channel and key in any `window`',
    ),
  dedupe: dedupeSchema
    .optional()
    .describe(
      'skip a delivery whose rendered content the same recipient got on that channel within `window`',
    ),
};

export const templatePolicySchema = z.object(templatePolicyShape);
export type TemplatePolicy = z.infer<typeof templatePolicySchema>;

/** The policy fields of a template input or stored JSON, and nothing else. */
export function policyOf(input: TemplatePolicy): TemplatePolicy {
  const { digest, escalate, fallback, throttle, dedupe } = input;
  return {
    ...(digest ? { digest } : {}),
    ...(escalate ? { escalate } : {}),
    ...(fallback ? { fallback } : {}),
    ...(throttle ? { throttle } : {}),
    ...(dedupe ? { dedupe } : {}),
  };
}
