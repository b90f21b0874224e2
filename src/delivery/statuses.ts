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
  // Collected into a digest message (the delivery's digestMessageId), which sends it.
  'digested',
  // Waiting for the end of its person's quiet hours (nextAttemptAt), then sent.
  'deferred',
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
  // Collected into digest messages; each delivery names the one it went into.
  'digested',
] as const;
/**
 * Where a digest bucket is (GET /v1/digests): collecting; closed, its digest message not yet recorded;
 * flushed into its digest message; closed with nothing left to send (every collected delivery cancelled).
 */
export const DIGEST_STATES = ['open', 'flushing', 'flushed', 'empty'] as const;
/**
 * Where a message's escalation is (GET /v1/escalations): its check waits on the scheduler; it added the
 * escalation channels; the condition was met in time (nothing added); the message was cancelled first.
 */
export const ESCALATION_STATES = ['pending', 'escalated', 'met', 'cancelled'] as const;
/** And its fallback: armed while the message is unfinished; fallen back; finished without needing it. */
export const FALLBACK_STATES = ['armed', 'fallen_back', 'not_needed'] as const;
export const ATTEMPT_OUTCOMES = ['sent', 'retryable', 'permanent', 'waiting', 'cancelled'] as const;

export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];
export type DigestState = (typeof DIGEST_STATES)[number];
export type EscalationState = (typeof ESCALATION_STATES)[number];
export type FallbackState = (typeof FALLBACK_STATES)[number];

/** Statuses a delivery never leaves by sending (delivered and read are reached from sent). */
export const TERMINAL: ReadonlySet<DeliveryStatus> = new Set([
  'sent',
  'delivered',
  'read',
  'failed',
  'skipped',
  'cancelled',
  'digested',
]);

/**
 * The codes of the reasons a delivery is decided `skipped` before anything is sent, in the documented
 * order of the checks; a metric label each. A missing address is recorded in the channel's own words.
 */
export const SKIP_REASONS = ['no_address', 'preference', 'deduplicated', 'throttled', 'suppressed'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** The code of a skip decided when the deliveries were planned: any other reason is a missing address. */
export const plannedSkipReason = (reason: string): SkipReason =>
  (SKIP_REASONS as readonly string[]).includes(reason) ? (reason as SkipReason) : 'no_address';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const deliveryStatusesMatch: Same<DeliveryStatus, DbDeliveryStatus> = true;
const messageStatusesMatch: Same<MessageStatus, DbMessageStatus> = true;
const attemptOutcomesMatch: Same<AttemptOutcome, DbAttemptOutcome> = true;
void deliveryStatusesMatch;
void messageStatusesMatch;
void attemptOutcomesMatch;
