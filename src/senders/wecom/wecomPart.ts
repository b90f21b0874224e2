import { z } from 'zod';

const short = z.string().max(1000);

/**
 * A template's WeCom part: `text` is the content of a text or markdown message and the description of a
 * news article; a news message needs `title` and `url`.
 */
export const wecomPartSchema = z
  .object({
    account: z.string().min(1).max(100).optional().describe('wecom-robot account; the only one when omitted'),
    msgtype: z.enum(['text', 'markdown', 'news']),
    title: short.optional().describe('news article title'),
    text: z.string().min(1).max(20_000),
    url: z.string().max(2000).optional().describe('news article link'),
    picUrl: z.string().max(2000).optional().describe('news article picture'),
  })
  .strict();
export type WecomPart = z.infer<typeof wecomPartSchema>;

/** The fields rendered (and syntax-checked) as Liquid text; none is HTML. */
export const WECOM_TEXT_FIELDS = ['title', 'text', 'url', 'picUrl'] as const;
