import { z } from 'zod';
import type { JobToSchedule } from '../scheduler/jobStore';

/** Snoozed items of one user come back (scheduler job kinds; one row per user and due second). */
export const INBOX_WAKE_JOB = 'inbox.wake';
/** Items of one user leave lists and counts at their expiry. */
export const INBOX_EXPIRE_JOB = 'inbox.expire';

export const inboxJobPayloadSchema = z.object({ userId: z.string() });

/** The job row of a user's items due at `at`, rounded up to the second, so items due together share it. */
export function inboxJob(kind: string, userId: string, at: Date): JobToSchedule {
  const due = new Date(Math.ceil(at.getTime() / 1000) * 1000);
  return { kind, key: `${userId}@${due.getTime()}`, payload: { userId }, dueAt: due };
}
