import { z } from 'zod';
import { uuidSchema } from '../identity/uuid';

export const SEVERITIES = ['low', 'normal', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** An IM part's action: a link to follow, or a key the business service learns from the event. */
export const itemActionSchema = z.union([
  z.object({ label: z.string().min(1).max(100), url: z.string().max(2000) }).strict(),
  z
    .object({
      label: z.string().min(1).max(100),
      key: z
        .string()
        .regex(/^[A-Za-z0-9_.:-]{1,64}$/)
        .describe('letters, digits and _.:- (up to 64)'),
    })
    .strict(),
]);
export const itemActionsSchema = z
  .object({ primary: itemActionSchema.optional(), secondary: itemActionSchema.optional() })
  .strict();
export type ItemActions = z.infer<typeof itemActionsSchema>;
export const ACTION_SLOTS = ['primary', 'secondary'] as const;
export type ActionSlot = (typeof ACTION_SLOTS)[number];

/** The key an action is recorded with: its own key, or the slot's name for a link. */
export function actionKey(actions: ItemActions | null, slot: ActionSlot): string | undefined {
  const a = actions?.[slot];
  if (!a) return undefined;
  return 'key' in a ? a.key : slot;
}

/** An in-site message as clients see it, in socket frames and over HTTP. */
export const inboxItemSchema = z.object({
  id: uuidSchema,
  /** Per-user increasing sequence number (gaps are possible); clients resume with `since=<seq>`. */
  seq: z.number().int().nonnegative(),
  title: z.string(),
  body: z.string(),
  url: z.string().nullable(),
  category: z.string().nullable(),
  tags: z.array(z.string()),
  severity: z.enum(SEVERITIES),
  data: z.unknown().nullable(),
  actions: itemActionsSchema.nullable(),
  createdAt: z.string(),
  seenAt: z.string().nullable(),
  readAt: z.string().nullable(),
  archivedAt: z.string().nullable(),
  snoozedUntil: z.string().nullable(),
  expiresAt: z.string().nullable(),
  actionedAt: z.string().nullable(),
  action: z.string().nullable(),
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
  tags?: string[];
  severity?: Severity;
  data?: unknown;
  actions?: ItemActions;
  /** When the item leaves lists and counts (from the part's expiresAfter). */
  expiresAt?: Date;
}

/** Only the client-facing fields (drops userId and deliveryId). */
export function toItemView(item: InboxItemView): InboxItemView {
  const { userId: _u, deliveryId: _d, ...view } = item as InboxItem;
  return view;
}
