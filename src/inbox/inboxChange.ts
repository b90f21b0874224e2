import { z } from 'zod';
import { uuidSchema } from '../identity/uuid';
import { filterRefSchema, type FilterRef } from './inboxFilter';
import type { InboxCounts } from './inboxCounts';

/** Which items a change applies to: listed ids, everything up to a seq, all, or a filter. */
export const selectionSchema = z.union([
  z.object({ ids: z.array(uuidSchema).min(1).max(1000) }).strict(),
  z.object({ upToSeq: z.number().int().nonnegative() }).strict(),
  z.object({ all: z.literal(true) }).strict(),
  z.object({ filter: filterRefSchema }).strict(),
]);
export type Selection = { ids: string[] } | { upToSeq: number } | { all: true } | { filter: FilterRef };

/** A change a user (or an admin for them) asks for. */
export type InboxChange =
  { kind: 'seen' | 'read' | 'unread' | 'archive' | 'unarchive' | 'delete' } | { kind: 'snooze'; until: Date };
export type ChangeKind = InboxChange['kind'];
export const CHANGE_KINDS = ['seen', 'read', 'unread', 'archive', 'unarchive', 'delete', 'snooze'] as const;

/** What a `changed` frame says happened (the item's new state). */
export const CHANGE_NAMES = [
  'seen',
  'read',
  'unread',
  'archived',
  'unarchived',
  'snoozed',
  'deleted',
  'expired',
  'actioned',
] as const;
export type ChangeName = (typeof CHANGE_NAMES)[number];

export const changeName: Record<ChangeKind, ChangeName> = {
  seen: 'seen',
  read: 'read',
  unread: 'unread',
  archive: 'archived',
  unarchive: 'unarchived',
  delete: 'deleted',
  snooze: 'snoozed',
};

/** A change as it was applied, for the answer and the frames. */
export interface ChangeResult {
  change: ChangeName;
  /** The items that changed. */
  ids: string[];
  counts: InboxCounts;
  until?: string;
  /** actioned: the item and the action's key. */
  id?: string;
  action?: string;
}

/**
 * The SET clause of a change and the condition that makes it a change for an item (so the rows updated
 * are exactly the items that changed). `$2` (text) is the change's value where it has one.
 */
export function changeSql(change: InboxChange): { set: string; when: string; value?: unknown } {
  switch (change.kind) {
    case 'seen':
      return { set: `"seenAt" = now()`, when: `i."seenAt" IS NULL` };
    case 'read':
      return { set: `"readAt" = now(), "seenAt" = COALESCE(i."seenAt", now())`, when: `i."readAt" IS NULL` };
    case 'unread':
      return { set: `"readAt" = NULL`, when: `i."readAt" IS NOT NULL` };
    case 'archive':
      return { set: `"archivedAt" = now()`, when: `i."archivedAt" IS NULL` };
    case 'unarchive':
      return { set: `"archivedAt" = NULL`, when: `i."archivedAt" IS NOT NULL` };
    case 'delete':
      return { set: `"deletedAt" = now()`, when: 'TRUE' };
    case 'snooze':
      return {
        set: `"snoozedUntil" = $2::text::timestamptz`,
        when: `i."expiredAt" IS NULL AND i."snoozedUntil" IS DISTINCT FROM $2::text::timestamptz`,
        value: change.until.toISOString(),
      };
  }
}
