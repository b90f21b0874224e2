import type { ClaimedJob } from '../scheduler/jobStore';
import type { JobHandler } from '../scheduler/scheduler';
import type { ImEvent } from './imBus';
import { announce, changedEvent, type AnnounceDeps } from './announceChange';
import { INBOX_EXPIRE_JOB, INBOX_WAKE_JOB, inboxJobPayloadSchema } from './inboxJobKinds';

/**
 * The scheduler's inbox jobs: snoozed items come back (pushed again as new, with the counts), expired items
 * leave the counts. Each row is one user's items due in one second, so nothing scans every inbox.
 */
export function inboxJobHandlers(deps: AnnounceDeps): ReadonlyMap<string, JobHandler> {
  const userOf = (job: ClaimedJob) => inboxJobPayloadSchema.parse(job.payload).userId;
  return new Map<string, JobHandler>([
    [
      INBOX_WAKE_JOB,
      async (job) => {
        const userId = userOf(job);
        const woken = await deps.inbox.wake(userId, job.dueAt);
        const events: ImEvent[] = woken.items.map((item) => ({
          type: 'item',
          userId,
          item,
          counts: woken.counts,
        }));
        // Woken items that stay out of the list (archived meanwhile) still moved the version.
        if (!events.length && woken.changed) events.push({ type: 'counts', userId, counts: woken.counts });
        if (events.length)
          await deps.bus
            .publishMany(events)
            .catch((err: unknown) => deps.log.warn({ err, userId }, 'inbox: pushing woken items failed'));
        return woken.retryAt ? { retryAt: woken.retryAt } : undefined;
      },
    ],
    [
      INBOX_EXPIRE_JOB,
      async (job) => {
        const userId = userOf(job);
        const { result, retryAt } = await deps.inbox.expire(userId, job.dueAt);
        if (result.ids.length) await announce(deps, changedEvent(userId, result));
        return retryAt ? { retryAt } : undefined;
      },
    ],
  ]);
}
