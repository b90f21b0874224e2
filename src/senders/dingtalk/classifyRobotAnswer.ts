import { z } from 'zod';
import { classifyRequestError } from '../vendorHttp';
import type { SendOutcome } from '../sender';
import { maskWebhook } from './sign';

/** DingTalk blocks a robot that sent too fast for ten minutes. */
export const RATE_LIMIT_BLOCK_MS = 10 * 60_000;

/**
 * "Sending too fast": DingTalk blocks the robot for ten minutes
 * (https://open.dingtalk.com/document/orgapp/custom-robot-access, 消息发送频率限制), so the retry waits out
 * the block and the sender holds the robot's other sends (`isTooFastAnswer`). 130101 "send too fast" and
 * 410100 "发送速度太快而限流" are the codes seen for it; 660026 was not found in the documentation at hand.
 */
const TOO_FAST = new Set([130101, 410100]);
/** "System busy": nothing wrong with the message, try again. */
const BUSY = new Set([-1]);

/**
 * Decides from the HTTP status and `errcode`, never from `errmsg`, whose wording DingTalk changes.
 * Every non-zero errcode not known to be transient (310000 signature/keyword/IP, 400101/400102/400106
 * token or robot invalid, content errors) is permanent: sending the same request again gets the same answer.
 */
export function classifyRobotAnswer(status: number, rawBody: string): SendOutcome {
  if (status >= 500 || status === 408 || status === 429) {
    return {
      kind: 'retryable',
      code: `dingtalk_http_${status}`,
      message: `HTTP ${status}${snippet(rawBody)}`,
    };
  }
  if (status < 200 || status >= 300) {
    return {
      kind: 'permanent',
      code: `dingtalk_http_${status}`,
      message: `HTTP ${status}${snippet(rawBody)}`,
    };
  }
  const answer = parseAnswer(rawBody);
  if (!answer) {
    return {
      kind: 'retryable',
      code: 'dingtalk_bad_answer',
      message: `HTTP ${status} without a JSON errcode${snippet(rawBody)}`,
    };
  }
  const { errcode, errmsg } = answer;
  if (errcode === 0) return { kind: 'sent' };
  const code = `dingtalk_${errcode}`;
  const message = maskWebhook(`errcode ${errcode}: ${errmsg}`);
  if (TOO_FAST.has(errcode)) return { kind: 'retryable', code, message, retryAfterMs: RATE_LIMIT_BLOCK_MS };
  if (BUSY.has(errcode)) return { kind: 'retryable', code, message };
  return { kind: 'permanent', code, message };
}

/** True when the outcome is DingTalk's "robot over its limit" answer, after which the robot is blocked. */
export function isTooFastAnswer(outcome: SendOutcome): boolean {
  if (outcome.kind !== 'retryable') return false;
  const m = /^dingtalk_(-?\d+)$/.exec(outcome.code);
  return m !== null && TOO_FAST.has(Number(m[1]));
}

/** The request got no answer, or was refused by the egress guard (one classification for every vendor). */
export const classifyRobotRequestError = (err: unknown): SendOutcome =>
  classifyRequestError('dingtalk', err, maskWebhook);

/** DingTalk's answer body; some gateways send errcode as a string of digits. */
const answerSchema = z.looseObject({
  errcode: z.union([
    z.int(),
    z
      .string()
      .regex(/^-?\d+$/)
      .transform(Number),
  ]),
  errmsg: z.unknown().optional(),
});

function parseAnswer(raw: string): { errcode: number; errmsg: string } | undefined {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = answerSchema.safeParse(data);
  if (!parsed.success) return undefined;
  const { errcode, errmsg } = parsed.data;
  return { errcode, errmsg: typeof errmsg === 'string' ? errmsg : '' };
}

function snippet(raw: string): string {
  const s = maskWebhook(raw.replace(/\s+/g, ' ').trim()).slice(0, 200);
  return s ? `: ${s}` : '';
}
