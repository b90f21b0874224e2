import type { SendOutcome } from '../sender';
import { classifyHttpStatus, integerField, parseJsonObject, snippet, type VendorAnswer } from '../vendorHttp';
import { maskFeishuHook } from './sign';

/**
 * "Frequency limited": the bot went over 100 a minute or 5 a second. Feishu documents no penalty period, so
 * the robot is held for one minute window (our choice) and the send retried after it.
 */
export const FEISHU_RATE_LIMITED = new Set([11232]);
export const FEISHU_RATE_HOLD_MS = 60_000;

/**
 * Decides from the HTTP status and `code` (older answers say `StatusCode`), never from `msg`
 * (codes: https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot, 常见问题). 19021 bad signature or
 * timestamp, 19022 IP not allowed, 19024 keyword missing, 19001 / 19002 bad token or parameters, 9499 bad
 * request: all permanent, the same request gets the same answer. 11232 rate limited is retried.
 */
export function classifyFeishuAnswer(answer: VendorAnswer): SendOutcome {
  const byStatus = answer.status === 429 ? undefined : classifyHttpStatus('feishu', answer, maskFeishuHook);
  if (byStatus) return byStatus;
  const obj = parseJsonObject(answer.body);
  const code = obj ? (integerField(obj, 'code') ?? integerField(obj, 'StatusCode')) : undefined;
  if (!obj || code === undefined) {
    if (answer.status === 429)
      return {
        kind: 'retryable',
        code: 'feishu_http_429',
        message: 'HTTP 429',
        retryAfterMs: FEISHU_RATE_HOLD_MS,
      };
    return {
      kind: 'retryable',
      code: 'feishu_bad_answer',
      message: `HTTP ${answer.status} without a JSON code${snippet(answer.body, maskFeishuHook)}`,
    };
  }
  if (code === 0) return { kind: 'sent' };
  const msg =
    typeof obj.msg === 'string' ? obj.msg : typeof obj.StatusMessage === 'string' ? obj.StatusMessage : '';
  const out = { code: `feishu_${code}`, message: maskFeishuHook(`code ${code}: ${msg}`) };
  if (FEISHU_RATE_LIMITED.has(code)) return { kind: 'retryable', ...out, retryAfterMs: FEISHU_RATE_HOLD_MS };
  return { kind: 'permanent', ...out };
}

/** True for Feishu's "frequency limited" answer (or an HTTP 429), after which the robot is held. */
export function isFeishuRateLimited(outcome: SendOutcome): boolean {
  if (outcome.kind !== 'retryable') return false;
  if (outcome.code === 'feishu_http_429') return true;
  const m = /^feishu_(\d+)$/.exec(outcome.code);
  return m !== null && FEISHU_RATE_LIMITED.has(Number(m[1]));
}
