import type { FastifyBaseLogger } from 'fastify';
import type { SendBudget } from '../sendBudget';
import type { Sender, SendOutcome } from '../types';
import { classifyRequestError, isHttpUrl, requestVendor } from '../vendorHttp';
import { buildFeishuPayload } from './buildFeishuPayload';
import { classifyFeishuAnswer, FEISHU_RATE_HOLD_MS, isFeishuRateLimited } from './classifyFeishuAnswer';
import type { FeishuJob } from './feishuJob';
import { maskFeishuHook } from './sign';

export interface FeishuSenderDeps {
  budget: SendBudget;
  log: Pick<FastifyBaseLogger, 'info' | 'warn'>;
  /** Per request; a robot that does not answer within it is retried later. */
  timeoutMs?: number;
  /** The clock the signature's timestamp comes from. */
  now?: () => number;
}

/**
 * Posts one robot message per send: budget first (5/s and 100/min per robot, all instances), then one
 * signed request, then the answer classified by `code`. Never throws for a vendor's answer.
 */
export function createFeishuSender(deps: FeishuSenderDeps): Sender<FeishuJob> {
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const now = deps.now ?? Date.now;
  return {
    channel: 'feishu',
    async send(job): Promise<SendOutcome> {
      if (!isHttpUrl(job.account.webhook)) {
        return {
          kind: 'permanent',
          code: 'feishu_bad_webhook',
          message: `robot "${job.account.name}" has no valid webhook URL`,
        };
      }
      const slot = await deps.budget.acquire(job.account.name);
      if (!slot.ok) {
        deps.log.info(
          { account: job.account.name, deliveryId: job.deliveryId, retryAfterMs: slot.retryAfterMs },
          'feishu robot budget spent, delivery waits',
        );
        return { kind: 'deferred', retryAfterMs: slot.retryAfterMs, reason: `robot ${slot.reason}` };
      }
      let outcome: SendOutcome;
      try {
        const answer = await requestVendor(
          'POST',
          job.account.webhook,
          buildFeishuPayload(job, now()),
          timeoutMs,
        );
        outcome = classifyFeishuAnswer(answer);
      } catch (err) {
        outcome = classifyRequestError('feishu', err, maskFeishuHook);
      } finally {
        await slot
          .settle()
          .catch((err: unknown) =>
            deps.log.warn(
              { account: job.account.name, err: String((err as Error).message) },
              'could not record the feishu send time; the budget counts it from its start',
            ),
          );
      }
      if (isFeishuRateLimited(outcome) && outcome.kind === 'retryable') {
        await deps.budget
          .hold(job.account.name, FEISHU_RATE_HOLD_MS, `rate limited by Feishu: ${outcome.message}`)
          .catch((err: unknown) =>
            deps.log.warn(
              { account: job.account.name, err: String((err as Error).message) },
              'could not hold the feishu robot',
            ),
          );
      }
      return outcome;
    },
  };
}
