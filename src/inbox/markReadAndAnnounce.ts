import type { FastifyBaseLogger } from 'fastify';
import type { ImBus } from './imBus';
import type { ReadSelection } from './inboxItem';
import type { InboxStore } from './inboxStore';

/**
 * Marks items read and tells every socket of the user, on every instance, the new unread count. It is
 * announced even when nothing changed, so a tab with a drifted badge is corrected.
 */
export async function markReadAndAnnounce(
  deps: { inbox: InboxStore; bus: ImBus; log: FastifyBaseLogger },
  userId: string,
  selection: ReadSelection,
): Promise<{ updated: number; unread: number; announced: boolean }> {
  const result = await deps.inbox.markRead(userId, selection);
  try {
    await deps.bus.publish({ type: 'unread', userId, unread: result.unread });
    return { ...result, announced: true };
  } catch (err) {
    deps.log.warn({ err }, 'inbox: announcing the unread count failed');
    return { ...result, announced: false };
  }
}
