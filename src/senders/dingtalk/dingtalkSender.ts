import type { FastifyBaseLogger } from 'fastify';
import { sendWithinBudget } from '../budgetedSend';
import type { Sender, SendOutcome } from '../sender';
import type { EgressGuard } from '../egress';
import { badWebhook, isHttpUrl, requestVendor } from '../vendorHttp';
import type { DingTalkJob } from './robotJob';
import { buildRobotPayload, RobotPayloadError, type RobotPayload } from './buildRobotPayload';
import {
  classifyRobotAnswer,
  classifyRobotRequestError,
  isTooFastAnswer,
  RATE_LIMIT_BLOCK_MS,
} from './classifyRobotAnswer';
import type { RobotBudget } from './robotBudget';
import { signedWebhookUrl } from './sign';

export interface DingTalkSenderDeps {
  budget: RobotBudget;
  log: Pick<FastifyBaseLogger, 'info' | 'warn'>;
  /** Where requests may go (the channel's vendor hosts and HERALD_WEBHOOK_ALLOW_HOSTS). */
  egress: EgressGuard;
  /** Per request; a robot that does not answer within it is retried later. */
  timeoutMs?: number;
}

/**
 * Posts one robot message per send: budget first, then one signed request, then the answer classified.
 * A "too fast" answer holds the robot for DingTalk's ten-minute block, for every instance, so the sends
 * behind it wait instead of prolonging the block.
 */
export function createDingTalkSender(deps: DingTalkSenderDeps): Sender<DingTalkJob> {
  const timeoutMs = deps.timeoutMs ?? 10_000;

  return {
    channel: 'dingtalk',
    async send(job): Promise<SendOutcome> {
      let payload: RobotPayload;
      try {
        payload = buildRobotPayload(job);
      } catch (err) {
        if (err instanceof RobotPayloadError)
          return { kind: 'permanent', code: err.code, message: err.message };
        throw err;
      }
      if (!isHttpUrl(job.account.webhook)) return badWebhook('dingtalk', job.account.name);

      return sendWithinBudget({
        budget: deps.budget,
        log: deps.log,
        vendor: 'dingtalk',
        account: job.account.name,
        deliveryId: job.deliveryId,
        send: () =>
          post(
            deps.egress,
            signedWebhookUrl(job.account.webhook, job.account.secret, Date.now()),
            payload,
            timeoutMs,
          ),
        holdAfter: (outcome) =>
          isTooFastAnswer(outcome) && outcome.kind === 'retryable'
            ? { ms: RATE_LIMIT_BLOCK_MS, reason: `blocked by DingTalk: ${outcome.message}` }
            : undefined,
      });
    },
  };
}

/** One request, one answer. */
async function post(
  egress: EgressGuard,
  url: string,
  payload: RobotPayload,
  timeoutMs: number,
): Promise<SendOutcome> {
  try {
    const answer = await requestVendor(egress, 'POST', url, payload, timeoutMs);
    return classifyRobotAnswer(answer.status, answer.body);
  } catch (err) {
    return classifyRobotRequestError(err);
  }
}
