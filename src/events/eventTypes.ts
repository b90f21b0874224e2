/**
 * The status events Herald records (src/events/eventLog.ts) and status webhooks deliver. Stored as text,
 * so a new type needs no migration; this list is what the API accepts as a webhook filter.
 */
export const EVENT_TYPES = [
  'message.accepted',
  'message.rejected',
  'message.scheduled',
  'message.cancelled',
  'delivery.sent',
  'delivery.delivered',
  'delivery.seen',
  'delivery.read',
  'delivery.actioned',
  'delivery.failed',
  'delivery.skipped',
  'delivery.cancelled',
  // Collected into a digest message (payload reason: "digested into <id>"), which sends it.
  'delivery.digested',
  // Held until the end of the person's quiet hours (payload until), then sent.
  'delivery.deferred',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** An event to append; id, occurredAt and seq are given by the log. */
export interface NewStatusEvent {
  type: EventType;
  messageId?: string;
  deliveryId?: string;
  templateCode?: string;
  /** JSON that receivers see under `data`: ids, channel, reason, attempt; never a secret or a full address. */
  payload: Record<string, unknown>;
  /** Recorded once per key: a second append with the same key is ignored (e.g. `delivery:<id>:actioned`). */
  key?: string;
}

/** An event as read back from the log. */
export interface StatusEvent {
  id: string;
  /** Null until the sequencer has numbered it (shortly after its commit). */
  seq: number | null;
  type: EventType;
  messageId: string | null;
  deliveryId: string | null;
  templateCode: string | null;
  payload: Record<string, unknown>;
  occurredAt: Date;
}
