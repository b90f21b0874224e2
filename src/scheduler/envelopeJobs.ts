import { z } from 'zod';
import type { EnvelopePublisher } from '../broker/envelopePublisher';
import type { SqlClient } from '../db/sqlClient';
import { jobStore } from './jobStore';
import type { Scheduler } from './scheduler';

/** The job kind of an envelope waiting to be dispatched (embedded queue, scheduled send, their retries). */
export const ENVELOPE_JOB = 'envelope';

/** The payload of an envelope row, parsed when it is claimed (consumer/localRunner.ts runs it). */
export const envelopeJobPayloadSchema = z.object({
  routingKey: z.string(),
  /** The envelope bytes as received, base64 (they may not be valid JSON or UTF-8: a dead letter's). */
  body: z.string(),
  messageId: z.string().optional(),
  /** Set on a scheduled send's row: its time has come, so dispatch sends instead of scheduling again. */
  due: z.boolean().optional(),
});
export type EnvelopeJobPayload = z.infer<typeof envelopeJobPayloadSchema>;

export interface DispatchOptions {
  /** The envelope's sendAt or delay has passed: send now, whatever the envelope says. */
  due?: boolean;
}

/**
 * Publishing onto the scheduler: the envelope is a committed ScheduledJob row, due now, before publish()
 * resolves (so before the API's 202). The message id is the row's key: publishing it again while it waits
 * adds nothing (dispatch is idempotent on the id anyway).
 */
export function createScheduledEnvelopePublisher(scheduler: Scheduler): EnvelopePublisher {
  return {
    async publish(routingKey, content, messageId) {
      const payload: EnvelopeJobPayload = { routingKey, body: content.toString('base64'), messageId };
      await scheduler.schedule({ kind: ENVELOPE_JOB, key: messageId, payload, dueAt: new Date() });
    },
  };
}

/** Removes the envelope row of a message (in the caller's transaction); true when there was one. */
export const dropEnvelopeJob = (tx: SqlClient, messageId: string): Promise<boolean> =>
  jobStore.removeKey(tx, ENVELOPE_JOB, messageId);
