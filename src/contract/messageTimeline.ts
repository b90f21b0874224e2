import { z } from 'zod';

export const TIMELINE_SOURCES = [
  'delivery',
  'attempt',
  'event',
  'webhook',
  'dead_letter',
  'suppression',
] as const;

export const timelineEntrySchema = z.object({
  at: z.iso.datetime(),
  source: z
    .enum(TIMELINE_SOURCES)
    .describe(
      'delivery: planned; attempt: a send attempt (delivery log); event: a status event; webhook: a status-webhook request; dead_letter: the envelope refused; suppression: an address this message led to suppressing (a mailbox that does not exist, an unsubscribe link)',
    ),
  type: z.string().describe('e.g. delivery.planned, attempt.sent, message.accepted, webhook.failed'),
  deliveryId: z.string().nullable(),
  channel: z.string().nullable(),
  userId: z.string().nullable(),
  summary: z.string().describe('one line for a person'),
  durationMs: z.number().int().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
});

export const messageTimelineSchema = z
  .object({
    message: z
      .object({
        id: z.string(),
        status: z.string(),
        templateCode: z.string().nullable(),
        templateVersion: z.number().int().nullable(),
        reason: z.string().nullable(),
        traceId: z.string().nullable(),
        sendAt: z.iso.datetime().nullable(),
        createdAt: z.iso.datetime(),
      })
      .nullable()
      .describe(
        'null when only events or a dead letter know the id (e.g. an envelope refused before recording)',
      ),
    entries: z.array(timelineEntrySchema),
  })
  .meta({ id: 'MessageTimeline' });

export type TimelineEntry = z.infer<typeof timelineEntrySchema>;
export type MessageTimeline = z.infer<typeof messageTimelineSchema>;
