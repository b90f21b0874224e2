import { z } from 'zod';
import { accountNameField } from '../channel';

const MSG_TYPES = ['text', 'markdown', 'actionCard', 'link'] as const;
const short = z.string().max(1000);

export const robotPartSchema = z
  .object({
    account: accountNameField.optional(),
    msgtype: z.enum(MSG_TYPES),
    title: short.optional(),
    text: z.string().min(1).max(20_000),
    url: z.string().max(2000).optional(),
    picUrl: z.string().max(2000).optional(),
    btnTitle: short.optional(),
  })
  .strict();

export const renderedRobotSchema = z.object({
  account: z.string().optional(),
  msgtype: z.enum(MSG_TYPES),
  title: z.string().optional(),
  text: z.string(),
  url: z.string().optional(),
  picUrl: z.string().optional(),
  btnTitle: z.string().optional(),
});
