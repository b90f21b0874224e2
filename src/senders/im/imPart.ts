import { z } from 'zod';
import { couldBeSafeItemUrl, ITEM_URL_RULE } from './itemUrl';

export const imPartSchema = z
  .object({
    title: z.string().max(1000).min(1),
    body: z.string().min(1).max(20_000),
    url: z.string().max(2000).refine(couldBeSafeItemUrl, ITEM_URL_RULE).optional(),
    category: z.string().max(100).optional(),
    data: z.record(z.string(), z.unknown()).optional().describe('top-level string values are rendered too'),
  })
  .strict();

export const renderedImSchema = z.object({
  title: z.string(),
  body: z.string(),
  url: z.string().optional(),
  category: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});
