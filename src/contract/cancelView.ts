import { z } from 'zod';

/** The answer of POST /v1/messages/:id/cancel (see cancelMessage.ts). */
export const cancelOutcomeView = z
  .object({
    id: z.string(),
    status: z.string().describe("the message's status after the cancellation"),
    scheduleCancelled: z
      .boolean()
      .describe('the message was waiting for its sendAt and will not be dispatched'),
    notArrived: z
      .boolean()
      .describe(
        'Herald had not seen the id yet: it is recorded cancelled, and the envelope stays so when it arrives',
      ),
    cancelled: z.array(z.object({ deliveryId: z.string(), channel: z.string(), previousStatus: z.string() })),
    alreadyDone: z
      .array(z.object({ deliveryId: z.string(), channel: z.string(), status: z.string() }))
      .describe('deliveries that had gone out (or ended) before'),
    inFlight: z
      .array(z.object({ deliveryId: z.string(), channel: z.string() }))
      .describe('deliveries being sent at that instant; they finish as they would have'),
  })
  .meta({ id: 'CancelOutcome' });
