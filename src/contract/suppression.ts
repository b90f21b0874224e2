import { z } from 'zod';
import { pageQuery } from './deliveryViews';

/**
 * Why mail is not sent to an address. `unsubscribed`: the person unsubscribed from everything (a link in
 * a mail sent without a user id, or an admin); critical mail still goes. `bounced`: the receiving server
 * answered that the mailbox does not exist (SMTP 5.1.x at RCPT); `manual`: an admin's decision. Those two
 * stop critical mail too.
 */
export const SUPPRESSION_REASONS = ['unsubscribed', 'bounced', 'manual'] as const;
export const suppressionReasonSchema = z.enum(SUPPRESSION_REASONS);
export type SuppressionReason = z.infer<typeof suppressionReasonSchema>;

const addressSchema = z.email().max(320);

export const suppressionInputSchema = z
  .object({
    address: addressSchema,
    reason: suppressionReasonSchema.default('manual'),
    detail: z.string().max(1000).optional().describe('why, in words (a ticket, the bounce text)'),
  })
  .strict()
  .meta({ id: 'SuppressionCreate' });
export type SuppressionInput = z.infer<typeof suppressionInputSchema>;

export const suppressionSchema = z
  .object({
    address: z
      .string()
      .nullable()
      .describe('lower-cased; null once the person it belonged to was erased (`erased`)'),
    erased: z
      .boolean()
      .describe(
        'the person was erased (DELETE /v1/subscribers/:userId): the entry keeps only a keyed hash of the address, and still stops sending to it; find it with ?address= or remove it with DELETE /v1/suppressions/:address, the address given in clear',
      ),
    reason: suppressionReasonSchema,
    detail: z.string().nullable(),
    messageId: z.string().nullable().describe('the message that led to it (a bounce, an unsubscribe link)'),
    deliveryId: z.string().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Suppression' });
export type SuppressionView = z.infer<typeof suppressionSchema>;

export const suppressionListQuerySchema = pageQuery.extend({
  reason: suppressionReasonSchema.optional(),
  address: addressSchema.optional().describe('this address only'),
});
export type SuppressionListQuery = z.infer<typeof suppressionListQuerySchema>;

export const suppressionListSchema = z
  .object({ items: z.array(suppressionSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'SuppressionList' });
export type SuppressionList = z.infer<typeof suppressionListSchema>;

export const suppressionAddressParams = z.object({ address: addressSchema });
