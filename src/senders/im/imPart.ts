import { z } from 'zod';
import { DURATION_PATTERN } from '../../time/duration';
import { itemActionsSchema, SEVERITIES } from '../../inbox/inboxItem';
import { couldBeSafeItemUrl, ITEM_URL_RULE } from './itemUrl';

const tagSchema = z.string().min(1).max(100);
/**
 * Tags are a record field to the renderer (each string value rendered on its own), so a rendered part
 * holds them as an object keyed "0", "1", …; toJob turns them back into a list.
 */
const renderedTags = z.union([z.array(z.string()), z.record(z.string(), z.string())]);

export const imPartSchema = z
  .object({
    title: z.string().max(1000).min(1),
    body: z.string().min(1).max(20_000),
    url: z.string().max(2000).refine(couldBeSafeItemUrl, ITEM_URL_RULE).optional(),
    category: z.string().max(100).optional(),
    tags: z.array(tagSchema).max(20).optional().describe('rendered like the other texts'),
    severity: z.enum(SEVERITIES).optional().describe('default normal'),
    actions: itemActionsSchema
      .optional()
      .describe('up to two: primary and secondary, each {label, url} or {label, key}'),
    expiresAfter: z
      .string()
      .regex(DURATION_PATTERN, 'a duration like 90m, 12h or 7d')
      .optional()
      .describe('the item leaves lists and counts this long after it was stored'),
    data: z.record(z.string(), z.unknown()).optional().describe('top-level string values are rendered too'),
  })
  .strict();

export const renderedImSchema = z.object({
  title: z.string(),
  body: z.string(),
  url: z.string().optional(),
  category: z.string().optional(),
  tags: renderedTags.optional(),
  severity: z.enum(SEVERITIES).optional(),
  actions: itemActionsSchema.optional(),
  expiresAfter: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});
