import type { FastifyBaseLogger } from 'fastify';
import type { ImBus, ImEvent } from './imBus';
import type { ChangeResult, InboxChange, Selection } from './inboxChange';
import type { ActionSlot } from './inboxItem';
import { MAX_CHANGED_IDS, type InboxStore } from './inboxStore';

export interface AnnounceDeps {
  inbox: InboxStore;
  bus: ImBus;
  log: FastifyBaseLogger;
}

/** The bus event of an applied change (ids left out past MAX_CHANGED_IDS: clients refetch). */
export function changedEvent(userId: string, r: ChangeResult): ImEvent {
  return {
    type: 'changed',
    userId,
    change: r.change,
    ids: r.ids.length > MAX_CHANGED_IDS ? null : r.ids,
    counts: r.counts,
    ...(r.until !== undefined ? { until: r.until } : {}),
    ...(r.id !== undefined ? { id: r.id } : {}),
    ...(r.action !== undefined ? { action: r.action } : {}),
  };
}

/** false when the bus refused (the caller's own sockets may still be told). */
export async function announce(deps: AnnounceDeps, event: ImEvent): Promise<boolean> {
  try {
    await deps.bus.publish(event);
    return true;
  } catch (err) {
    deps.log.warn({ err }, 'inbox: announcing a change failed');
    return false;
  }
}

/**
 * Applies a change and tells every socket of the user, on every instance, with the new counts. It is
 * announced even when nothing changed, so a tab with a drifted badge is corrected.
 */
export async function changeAndAnnounce(
  deps: AnnounceDeps,
  userId: string,
  change: InboxChange,
  selection: Selection,
): Promise<ChangeResult & { event: ImEvent; announced: boolean }> {
  const result = await deps.inbox.change(userId, change, selection);
  const event = changedEvent(userId, result);
  return { ...result, event, announced: await announce(deps, event) };
}

/** Records an action taken on an item and announces it; undefined when it was recorded before. */
export async function actAndAnnounce(
  deps: AnnounceDeps,
  userId: string,
  itemId: string,
  slot: ActionSlot,
): Promise<(ChangeResult & { event: ImEvent; announced: boolean }) | undefined> {
  const taken = await deps.inbox.act(userId, itemId, slot);
  if (!taken) return undefined;
  const event = changedEvent(userId, taken.result);
  return { ...taken.result, event, announced: await announce(deps, event) };
}

/**
 * Recomputes counts from the items (one user, or all) and tells the sockets of every user whose counts
 * it had to fix; answers the differences.
 */
export async function recountAndAnnounce(
  deps: AnnounceDeps,
  userId?: string,
): Promise<Awaited<ReturnType<InboxStore['recount']>>> {
  const diffs = await deps.inbox.recount(userId);
  for (const u of new Set(diffs.map((d) => d.userId)))
    await announce(deps, { type: 'counts', userId: u, counts: await deps.inbox.counts(u) });
  return diffs;
}
