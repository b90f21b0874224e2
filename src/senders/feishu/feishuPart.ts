import { z } from 'zod';

const short = z.string().max(1000);

/**
 * A template's Feishu part. `text` carries the body of every message type: plain text for `text`, one
 * paragraph per line for `post`, lark_md for an `interactive` card. A `post` or card shows `url` as a
 * link / button titled `btnTitle`.
 */
export const feishuPartSchema = z
  .object({
    account: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('feishu-robot account; the only one when omitted'),
    msgType: z.enum(['text', 'post', 'interactive']),
    title: short.optional().describe('post title / card header'),
    text: z.string().min(1).max(20_000),
    url: z.string().max(2000).optional(),
    btnTitle: short.optional(),
    atAll: z.boolean().optional().describe('also @ everyone in the group'),
  })
  .strict();
export type FeishuPart = z.infer<typeof feishuPartSchema>;

/** The fields rendered (and syntax-checked) as Liquid text; none is HTML. */
export const FEISHU_TEXT_FIELDS = ['title', 'text', 'url', 'btnTitle'] as const;
