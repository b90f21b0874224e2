import type {
  AttemptOutcome as DbAttemptOutcome,
  DeliveryStatus as DbDeliveryStatus,
  MessageStatus as DbMessageStatus,
} from '../generated/prisma/enums';

/** The statuses of messages, deliveries and attempts, defined once; the database enums must match. */
export const DELIVERY_STATUSES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'read',
  'retrying',
  'failed',
  'skipped',
  'cancelled',
] as const;
export const MESSAGE_STATUSES = [
  'accepted',
  'rejected',
  // Waiting for its sendAt or delay (src/scheduler/scheduledSends.ts); then dispatched as usual.
  'scheduled',
  // Nothing of it was sent: cancelled before its time, or every pending delivery cancelled.
  'cancelled',
  'dispatched',
  'completed',
  'partially_failed',
  'failed',
] as const;
export const ATTEMPT_OUTCOMES = ['sent', 'retryable', 'permanent', 'waiting', 'cancelled'] as const;

export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** Statuses a delivery never leaves by sending (delivered and read are reached from sent). */
export const TERMINAL: ReadonlySet<DeliveryStatus> = new Set([
  'sent',
  'delivered',
  'read',
  'failed',
  'skipped',
  'cancelled',
]);

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const deliveryStatusesMatch: Same<DeliveryStatus, DbDeliveryStatus> = true;
const messageStatusesMatch: Same<MessageStatus, DbMessageStatus> = true;
const attemptOutcomesMatch: Same<AttemptOutcome, DbAttemptOutcome> = true;
void deliveryStatusesMatch;
void messageStatusesMatch;
void attemptOutcomesMatch;
