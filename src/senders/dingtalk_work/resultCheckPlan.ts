import { z } from 'zod';
import type { SendOutcome } from '../sender';
import type { WorkCheckOutcome } from './checkSendResult';
import type { DingTalkWorkJob } from './workJob';

/**
 * One later getsendresult check of one task, as it travels through the durable delay (a RabbitMQ TTL queue
 * until a scheduler exists): parsed with this schema when it comes back, never cast.
 */
export const workResultCheckSchema = z
  .object({
    account: z.string().min(1).max(100),
    taskId: z.string().regex(/^\d+$/),
    deliveries: z
      .array(z.object({ deliveryId: z.string().min(1), userId: z.string().min(1) }))
      .min(1)
      .max(100),
    /** 1 for the first check. */
    round: z.int().min(1),
  })
  .strict();
export type WorkResultCheck = z.infer<typeof workResultCheckSchema>;

/**
 * When each check runs after the send (then after the previous check): DingTalk usually finishes a task in
 * seconds; a user still in no list after the last round is left `sent`, marked unconfirmed.
 */
export const WORK_CHECK_DELAYS_MS = [60_000, 5 * 60_000, 30 * 60_000] as const;

/** The checks to schedule after a sendMany: one per accepted task, with the deliveries that share it. */
export function planResultChecks(
  jobs: readonly DingTalkWorkJob[],
  outcomes: readonly SendOutcome[],
): WorkResultCheck[] {
  const byTask = new Map<string, WorkResultCheck>();
  jobs.forEach((job, i) => {
    const outcome = outcomes[i];
    if (outcome?.kind !== 'sent' || !outcome.providerId) return;
    const key = `${job.account.name}\n${outcome.providerId}`;
    const check = byTask.get(key) ?? {
      account: job.account.name,
      taskId: outcome.providerId,
      deliveries: [],
      round: 1,
    };
    check.deliveries.push({ deliveryId: job.deliveryId, userId: job.userId });
    byTask.set(key, check);
  });
  return [...byTask.values()];
}

export type CheckDecision =
  | { deliveryId: string; action: 'delivered'; read: boolean }
  | { deliveryId: string; action: 'failed'; code: string; reason: string }
  /** Out of rounds without an answer: stays `sent`, with the reason noted. */
  | { deliveryId: string; action: 'unconfirmed'; reason: string };

export interface CheckPlan {
  decisions: CheckDecision[];
  /** The next check for the deliveries still open, and when; none after the last round. */
  next?: { check: WorkResultCheck; delayMs: number };
}

/** What a check's answer means for each delivery of the task, and whether to check again. */
export function decideAfterCheck(
  check: WorkResultCheck,
  outcome: WorkCheckOutcome,
  delaysMs: readonly number[] = WORK_CHECK_DELAYS_MS,
): CheckPlan {
  if (outcome.kind === 'unchecked') {
    const why = `getsendresult failed: ${outcome.outcome.message}`;
    if (outcome.outcome.kind === 'permanent') return { decisions: unconfirmed(check.deliveries, why) };
    return checkAgain(check, check.deliveries, why, delaysMs);
  }
  const decisions: CheckDecision[] = [];
  const open: WorkResultCheck['deliveries'] = [];
  for (const d of check.deliveries) {
    const r = outcome.results.get(d.userId) ?? { status: 'pending' };
    if (r.status === 'delivered')
      decisions.push({ deliveryId: d.deliveryId, action: 'delivered', read: r.read });
    else if (r.status === 'failed')
      decisions.push({ deliveryId: d.deliveryId, action: 'failed', code: r.code, reason: r.reason });
    else open.push(d);
  }
  if (open.length === 0) return { decisions };
  const rest = checkAgain(
    check,
    open,
    `DingTalk had not finished the task after ${check.round} checks`,
    delaysMs,
  );
  return { ...rest, decisions: [...decisions, ...rest.decisions] };
}

/** The open deliveries checked again after the next delay, or, out of rounds, left unconfirmed. */
function checkAgain(
  check: WorkResultCheck,
  open: WorkResultCheck['deliveries'],
  why: string,
  delaysMs: readonly number[],
): CheckPlan {
  const delayMs = delaysMs[check.round];
  if (delayMs === undefined) return { decisions: unconfirmed(open, why) };
  return { decisions: [], next: { check: { ...check, deliveries: open, round: check.round + 1 }, delayMs } };
}

function unconfirmed(open: WorkResultCheck['deliveries'], reason: string): CheckDecision[] {
  return open.map((d) => ({ deliveryId: d.deliveryId, action: 'unconfirmed', reason }));
}
