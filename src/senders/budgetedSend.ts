import type { FastifyBaseLogger } from 'fastify';
import type { SendBudget } from './sendBudget';
import type { SendOutcome } from './sender';

export interface BudgetedSend {
  budget: SendBudget;
  log: Pick<FastifyBaseLogger, 'info' | 'warn'>;
  /** For logs: `feishu`, `wecom` … */
  vendor: string;
  account: string;
  deliveryId: string;
  /** The one request; must not throw for a vendor's answer. */
  send: () => Promise<SendOutcome>;
  /** When the answer says the account is over the vendor's limit: how long to hold it, and why. */
  holdAfter?: (outcome: SendOutcome) => { ms: number; reason: string } | undefined;
}

/**
 * A robot send under a shared budget: take a slot (or answer `deferred` without calling the vendor), send,
 * count the send from its answer, and hold the account on every instance when the vendor says it is over
 * its limit, so the sends behind it wait instead of prolonging the limit.
 */
export async function sendWithinBudget(opts: BudgetedSend): Promise<SendOutcome> {
  const { budget, log, vendor, account } = opts;
  const slot = await budget.acquire(account);
  if (!slot.ok) {
    log.info(
      { account, deliveryId: opts.deliveryId, retryAfterMs: slot.retryAfterMs },
      `${vendor} robot budget spent, delivery waits`,
    );
    return { kind: 'deferred', retryAfterMs: slot.retryAfterMs, reason: `robot ${slot.reason}` };
  }
  let outcome: SendOutcome;
  try {
    outcome = await opts.send();
  } finally {
    await slot
      .settle()
      .catch((err: unknown) =>
        log.warn(
          { account, err: String((err as Error).message) },
          `could not record the ${vendor} send time; the budget counts it from its start`,
        ),
      );
  }
  const hold = opts.holdAfter?.(outcome);
  if (hold) {
    await budget
      .hold(account, hold.ms, hold.reason)
      .catch((err: unknown) =>
        log.warn(
          { account, err: String((err as Error).message) },
          `could not hold the ${vendor} robot; other sends will meet the limit themselves`,
        ),
      );
  }
  return outcome;
}
