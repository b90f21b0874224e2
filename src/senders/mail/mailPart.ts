import { z } from 'zod';
import { accountNameField } from '../channel';

export const mailPartSchema = z
  .object({
    account: accountNameField.optional(),
    subject: z.string().max(1000).min(1),
    html: z.string().max(100_000).min(1),
    text: z.string().max(100_000).optional(),
  })
  .strict();

export const renderedMailSchema = z.object({
  account: z.string().optional(),
  subject: z.string(),
  html: z.string(),
  text: z.string().optional(),
});
