import axios from 'axios';
import type { FastifyBaseLogger } from 'fastify';
import type { Sender, SendOutcome } from '../sender';
import type { DingTalkJob } from './robotJob';
import { buildRobotPayload, RobotPayloadError, type RobotPayload } from './buildRobotPayload';
import { classifyRobotAnswer, classifyRobotRequestError } from './classifyRobotAnswer';
import type { RobotBudget } from './robotBudget';
import { signedWebhookUrl } from './sign';

export interface DingTalkSenderDeps {
  budget: RobotBudget;
  log: Pick<FastifyBaseLogger, 'info' | 'warn'>;
  /** Per request; a robot that does not answer within it is retried later. */
  timeoutMs?: number;
}

/** Posts one robot message per send: budget first, then one signed request, then the answer classified. */
export function createDingTalkSender(deps: DingTalkSenderDeps): Sender<DingTalkJob> {
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const budgetReason = `robot budget spent: ${deps.budget.perWindow} per ${describeWindow(deps.budget.windowMs)}`;

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
      if (!isHttpUrl(job.account.webhook)) {
        return {
          kind: 'permanent',
          code: 'dingtalk_bad_webhook',
          message: `robot "${job.account.name}" has no valid webhook URL`,
        };
      }

      const slot = await deps.budget.acquire(job.account.name);
      if (!slot.ok) {
        deps.log.info(
          { account: job.account.name, deliveryId: job.deliveryId, retryAfterMs: slot.retryAfterMs },
          'dingtalk robot budget spent, delivery waits',
        );
        return { kind: 'deferred', retryAfterMs: slot.retryAfterMs, reason: budgetReason };
      }

      const url = signedWebhookUrl(job.account.webhook, job.account.secret, Date.now());
      try {
        return await post(url, payload, timeoutMs);
      } finally {
        await slot
          .settle()
          .catch((err: unknown) =>
            deps.log.warn(
              { account: job.account.name, err: String((err as Error).message) },
              'could not record the dingtalk send time; the budget counts it from its start',
            ),
          );
      }
    },
  };
}

/** One request, one answer: axios.post with a per-call config, no shared instance. */
async function post(url: string, payload: RobotPayload, timeoutMs: number): Promise<SendOutcome> {
  try {
    const res = await axios.post<string>(url, payload, {
      timeout: timeoutMs,
      headers: { 'content-type': 'application/json' },
      responseType: 'text',
      // The raw text, so a non-JSON answer is seen as such rather than half-parsed.
      transformResponse: (data: unknown) => data,
      validateStatus: () => true,
      maxRedirects: 0,
    });
    return classifyRobotAnswer(res.status, typeof res.data === 'string' ? res.data : String(res.data ?? ''));
  } catch (err) {
    return classifyRobotRequestError(err);
  }
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

function describeWindow(ms: number): string {
  return ms === 60_000 ? 'minute' : `${ms / 1000} s`;
}
