import type { SendOutcome } from '../sender';
import { classifyHttpStatus, integerField, parseJsonObject, snippet, type VendorAnswer } from '../vendorHttp';

/** 45009 "api freq out of limit": over 20 a minute. WeCom names no penalty; the robot waits one window. */
export const WECOM_RATE_LIMITED = new Set([45009]);
export const WECOM_RATE_HOLD_MS = 60_000;
/** -1 "system busy": nothing wrong with the message, try again. */
const BUSY = new Set([-1]);

/** The webhook with its key hidden, for logs and error messages. */
export function maskWecomKey(text: string): string {
  return text.replace(/([?&]key=)[^&\s"']*/gi, '$1***');
}

/**
 * Decides from the HTTP status and `errcode`, never from `errmsg`
 * (https://developer.work.weixin.qq.com/document/path/90313, 全局错误码). Every other non-zero errcode —
 * 93000 invalid webhook key, 40008 bad message type, 44004 empty content, 45002 content too long, 40058 bad
 * parameter — is permanent: the same request gets the same answer.
 */
export function classifyWecomAnswer(answer: VendorAnswer): SendOutcome {
  const byStatus = classifyHttpStatus('wecom', answer, maskWecomKey);
  if (byStatus) return byStatus;
  const obj = parseJsonObject(answer.body);
  const errcode = obj ? integerField(obj, 'errcode') : undefined;
  if (!obj || errcode === undefined) {
    return {
      kind: 'retryable',
      code: 'wecom_bad_answer',
      message: `HTTP ${answer.status} without a JSON errcode${snippet(answer.body, maskWecomKey)}`,
    };
  }
  if (errcode === 0) return { kind: 'sent' };
  const errmsg = typeof obj.errmsg === 'string' ? obj.errmsg : '';
  const out = { code: `wecom_${errcode}`, message: maskWecomKey(`errcode ${errcode}: ${errmsg}`) };
  if (WECOM_RATE_LIMITED.has(errcode)) return { kind: 'retryable', ...out, retryAfterMs: WECOM_RATE_HOLD_MS };
  if (BUSY.has(errcode)) return { kind: 'retryable', ...out };
  return { kind: 'permanent', ...out };
}

export function isWecomRateLimited(outcome: SendOutcome): boolean {
  if (outcome.kind !== 'retryable') return false;
  const m = /^wecom_(-?\d+)$/.exec(outcome.code);
  return m !== null && WECOM_RATE_LIMITED.has(Number(m[1]));
}
