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
  /** W3C trace context of whoever published or scheduled it, so the send continues that trace. */
  trace: z.object({ traceparent: z.string(), tracestate: z.string().optional() }).optional(),
});
export type EnvelopeJobPayload = z.infer<typeof envelopeJobPayloadSchema>;

/** The row payload of an envelope whose time has come: dispatch sends it, whatever its sendAt says. */
export function dueEnvelopePayload(envelope: { id: string; template: string }): EnvelopeJobPayload {
  return {
    routingKey: `notify.${envelope.template}`,
    body: Buffer.from(JSON.stringify(envelope)).toString('base64'),
    messageId: envelope.id,
    due: true,
  };
}

export interface DispatchOptions {
  /** The envelope's sendAt or delay has passed: send now, whatever the envelope says. */
  due?: boolean;
}

/** The row priority of an envelope: 1 for a critical template's, claimed first (scheduler `reserved`). */
export const envelopePriority = (critical: boolean): number => (critical ? 1 : 0);

/**
 * Publishing onto the scheduler: the envelope is a committed ScheduledJob row, due now, before publish()
 * resolves (so before the API's 202). The message id is the row's key: publishing it again while it waits
 * adds nothing (dispatch is idempotent on the id anyway). `isCritical` says, by template code, which rows
 * go first, as herald.dispatch.critical does on RabbitMQ.
 */
export function createScheduledEnvelopePublisher(
  scheduler: Scheduler,
  isCritical: (templateCode: string) => Promise<boolean> = async () => false,
): EnvelopePublisher {
  return {
    async publish(routingKey, content, messageId, trace) {
      const critical = routingKey.startsWith('notify.') && (await isCritical(routingKey.slice(7)));
      const payload: EnvelopeJobPayload = {
        routingKey,
        body: content.toString('base64'),
        messageId,
        ...(trace ? { trace } : {}),
      };
      await scheduler.schedule({
        kind: ENVELOPE_JOB,
        key: messageId,
        payload,
        dueAt: new Date(),
        priority: envelopePriority(critical),
      });
    },
  };
}

/** Removes the envelope row of a message (in the caller's transaction); true when there was one. */
export const dropEnvelopeJob = (tx: SqlClient, messageId: string): Promise<boolean> =>
  jobStore.removeKey(tx, ENVELOPE_JOB, messageId);
