import type { ChangeName, InboxItem } from './types';

/** Shown in the default list: not archived, snoozed, expired (deleted items never reach a client). */
export function isLive(item: InboxItem, now = Date.now()): boolean {
  if (item.archivedAt !== null) return false;
  if (item.snoozedUntil !== null && Date.parse(item.snoozedUntil) > now) return false;
  return !(item.expiresAt !== null && Date.parse(item.expiresAt) <= now);
}

/**
 * The live items a client holds, by id, so an item that comes twice (a hello after a reconnect, a page
 * that overlaps a push) is held once. Every id it ever held is remembered, so `put` can say whether an
 * item is new to this client (its `item` event fires once) even after it left the list and came back.
 */
export interface ItemStore {
  /** Holds the server's version of the item (or drops it when it is not live); true when it is new. */
  put(item: InboxItem): boolean;
  get(id: string): InboxItem | undefined;
  /** Newest first. */
  list(): InboxItem[];
  /** Applies a `changed` frame (or the client's own change) to the held items. */
  apply(change: ChangeName, ids: readonly string[] | 'all', at: string, action?: string): void;
  size(): number;
}

export function createItemStore(): ItemStore {
  const byId = new Map<string, InboxItem>();
  const known = new Set<string>();
  let sorted: InboxItem[] | undefined;

  function set(item: InboxItem): void {
    if (isLive(item)) byId.set(item.id, item);
    else byId.delete(item.id);
    sorted = undefined;
  }

  return {
    put(item) {
      const fresh = !known.has(item.id);
      known.add(item.id);
      set(item);
      return fresh;
    },
    get: (id) => byId.get(id),
    list() {
      sorted ??= [...byId.values()].sort((a, b) => b.seq - a.seq);
      return sorted;
    },
    apply(change, ids, at, action) {
      const targets = ids === 'all' ? [...byId.keys()] : ids;
      for (const id of targets) {
        const item = byId.get(id);
        if (!item) continue;
        switch (change) {
          case 'seen':
            set({ ...item, seenAt: item.seenAt ?? at });
            break;
          case 'read':
            set({ ...item, seenAt: item.seenAt ?? at, readAt: item.readAt ?? at });
            break;
          case 'unread':
            set({ ...item, readAt: null });
            break;
          case 'actioned':
            set({
              ...item,
              actionedAt: at,
              action: action ?? null,
              seenAt: item.seenAt ?? at,
              readAt: item.readAt ?? at,
            });
            break;
          case 'archived':
          case 'snoozed':
          case 'deleted':
          case 'expired':
            byId.delete(id);
            sorted = undefined;
            break;
          case 'unarchived':
            break; // not held while archived: the page that follows brings it back
        }
      }
    },
    size: () => byId.size,
  };
}
