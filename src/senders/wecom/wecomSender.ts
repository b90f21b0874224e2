import type { FastifyBaseLogger } from 'fastify';
import { sendWithinBudget } from '../budgetedSend';
import type { EgressGuard } from '../egress';
import type { SendBudget } from '../sendBudget';
import type { Sender, SendOutcome } from '../sender';
import { classifyRequestError, badWebhook, isHttpUrl, requestVendor } from '../vendorHttp';
import { buildWecomPayload, WecomPayloadError, type WecomPayload } from './buildWecomPayload';
import {
  classifyWecomAnswer,
  isWecomRateLimited,
  maskWecomKey,
  WECOM_RATE_HOLD_MS,
} from './classifyWecomAnswer';
import type { WecomJob } from './wecomJob';
import { wecomLengthIssues } from './wecomLimits';

export interface WecomSenderDeps {
  budget: SendBudget;
  log: Pick<FastifyBaseLogger, 'info' | 'warn'>;
  /** Where requests may go (the channel's vendor hosts and HERALD_WEBHOOK_ALLOW_HOSTS). */
  egress: EgressGuard;
  /** Per request; a robot that does not answer within it is retried later. */
  timeoutMs?: number;
}

/**
 * Posts one robot message per send: the rendered text checked against WeCom's limits, then the budget
 * (20 a minute per robot, all instances), then one request, then the answer classified by `errcode`.
 */
export function createWecomSender(deps: WecomSenderDeps): Sender<WecomJob> {
  const timeoutMs = deps.timeoutMs ?? 10_000;
  return {
    channel: 'wecom',
    async send(job): Promise<SendOutcome> {
      let payload: WecomPayload;
      try {
        payload = buildWecomPayload(job);
      } catch (err) {
        if (err instanceof WecomPayloadError)
          return { kind: 'permanent', code: err.code, message: err.message };
        throw err;
      }
      const tooLong = wecomLengthIssues(job);
      if (tooLong.length > 0)
        return {
          kind: 'permanent',
          code: 'wecom_too_long',
          message: tooLong.map((i) => i.message).join('; '),
        };
      if (!isHttpUrl(job.account.webhook)) return badWebhook('wecom', job.account.name);
      return sendWithinBudget({
        budget: deps.budget,
        log: deps.log,
        vendor: 'wecom',
        account: job.account.name,
        deliveryId: job.deliveryId,
        send: async () => {
          try {
            return classifyWecomAnswer(
              await requestVendor(deps.egress, 'POST', job.account.webhook, payload, timeoutMs),
            );
          } catch (err) {
            return classifyRequestError('wecom', err, maskWecomKey);
          }
        },
        holdAfter: (outcome) =>
          isWecomRateLimited(outcome) && outcome.kind === 'retryable'
            ? { ms: WECOM_RATE_HOLD_MS, reason: `rate limited by WeCom: ${outcome.message}` }
            : undefined,
      });
    },
  };
}
