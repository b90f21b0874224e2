import { z } from 'zod';

/** An in-site message as clients see it, in socket frames and over HTTP. */
export const inboxItemSchema = z.object({
  id: z.uuid(),
  /** Per-user increasing sequence number (gaps are possible); clients resume with `since=<seq>`. */
  seq: z.number().int().nonnegative(),
  title: z.string(),
  body: z.string(),
  url: z.string().nullable(),
  category: z.string().nullable(),
  data: z.unknown().nullable(),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});

export type InboxItemView = z.infer<typeof inboxItemSchema>;

/** A stored item; `deliveryId` links it to its Delivery row and never leaves the server. */
export interface InboxItem extends InboxItemView {
  userId: string;
  deliveryId: string | null;
}

export interface NewInboxItem {
  userId: string;
  deliveryId: string;
  /** The delivery's send attempt this item is (recorded with the item, in its transaction). */
  attempt: number;
  messageId: string;
  title: string;
  body: string;
  url?: string;
  category?: string;
  data?: unknown;
}

/** Only the client-facing fields (drops userId and deliveryId). */
export function toItemView(item: InboxItemView): InboxItemView {
  return {
    id: item.id,
    seq: item.seq,
    title: item.title,
    body: item.body,
    url: item.url,
    category: item.category,
    data: item.data,
    createdAt: item.createdAt,
    readAt: item.readAt,
  };
}

/** Which items a read marks: listed ids, everything up to a sequence number, or all. */
export type ReadSelection = { ids: string[] } | { upToSeq: number } | { all: true };
