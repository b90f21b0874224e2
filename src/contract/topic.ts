import { z } from 'zod';
import { userIdSchema } from '../identity/userId';
import { topicKeySchema } from './envelope';

export const topicInputSchema = z
  .object({ key: topicKeySchema, name: z.string().min(1).max(200) })
  .strict()
  .meta({ id: 'TopicCreate' });
export type TopicInput = z.infer<typeof topicInputSchema>;

export const topicSchema = z
  .object({
    key: z.string(),
    name: z.string(),
    members: z.number().int().describe('current members'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Topic' });
export type TopicView = z.infer<typeof topicSchema>;

export const topicListSchema = z
  .object({ items: z.array(topicSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'TopicList' });
export type TopicList = z.infer<typeof topicListSchema>;

export const topicMembersChangeSchema = z
  .object({ userIds: z.array(userIdSchema).min(1).max(10_000) })
  .strict()
  .meta({ id: 'TopicMembersChange' });

export const topicMembersChangedSchema = z
  .object({ changed: z.number().int().describe('members actually added or removed (others already were)') })
  .meta({ id: 'TopicMembersChanged' });

export const topicMemberSchema = z
  .object({ userId: z.string(), addedAt: z.iso.datetime() })
  .meta({ id: 'TopicMember' });

export const topicMemberListSchema = z
  .object({ items: z.array(topicMemberSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'TopicMemberList' });
export type TopicMemberList = z.infer<typeof topicMemberListSchema>;

export const topicKeyParams = z.object({ key: topicKeySchema });
