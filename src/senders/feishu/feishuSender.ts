import type { FastifyBaseLogger } from 'fastify';
import { sendWithinBudget } from '../budgetedSend';
import type { EgressGuard } from '../egress';
import type { SendBudget } from '../sendBudget';
import type { Sender, SendOutcome } from '../sender';
import { classifyRequestError, badWebhook, isHttpUrl, requestVendor } from '../vendorHttp';
import { buildFeishuPayload } from './buildFeishuPayload';
import { classifyFeishuAnswer, FEISHU_RATE_HOLD_MS, isFeishuRateLimited } from './classifyFeishuAnswer';
import type { FeishuJob } from './feishuJob';
import { maskFeishuHook } from './sign';

export interface FeishuSenderDeps {
  budget: SendBudget;
  log: Pick<FastifyBaseLogger, 'info' | 'warn'>;
  /** Where requests may go (the channel's vendor hosts and HERALD_WEBHOOK_ALLOW_HOSTS). */
  egress: EgressGuard;
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
      if (!isHttpUrl(job.account.webhook)) return badWebhook('feishu', job.account.name);
      return sendWithinBudget({
        budget: deps.budget,
        log: deps.log,
        vendor: 'feishu',
        account: job.account.name,
        deliveryId: job.deliveryId,
        send: async () => {
          try {
            const payload = buildFeishuPayload(job, now());
            return classifyFeishuAnswer(
              await requestVendor(deps.egress, 'POST', job.account.webhook, payload, timeoutMs),
            );
          } catch (err) {
            return classifyRequestError('feishu', err, maskFeishuHook);
          }
        },
        holdAfter: (outcome) =>
          isFeishuRateLimited(outcome) && outcome.kind === 'retryable'
            ? { ms: FEISHU_RATE_HOLD_MS, reason: `rate limited by Feishu: ${outcome.message}` }
            : undefined,
      });
    },
  };
}
