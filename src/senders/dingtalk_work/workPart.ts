import { z } from 'zod';

const short = z.string().max(1000);

/**
 * A template's part for a DingTalk work notification (a corporate app's message to one person):
 * `text` is the body of every type; `link` and `action_card` need `url`.
 */
export const workPartSchema = z
  .object({
    account: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('dingtalk-work account; the only one when omitted'),
    msgtype: z.enum(['text', 'markdown', 'link', 'action_card']),
    title: short.optional(),
    text: z.string().min(1).max(20_000),
    url: z.string().max(2000).optional(),
    picUrl: z.string().max(2000).optional(),
    btnTitle: short.optional(),
  })
  .strict();
export type WorkPart = z.infer<typeof workPartSchema>;

/** The fields rendered (and syntax-checked) as Liquid text; none is HTML. */
export const WORK_TEXT_FIELDS = ['title', 'text', 'url', 'picUrl', 'btnTitle'] as const;
