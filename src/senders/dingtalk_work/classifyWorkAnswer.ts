import type { SendOutcome } from '../sender';
import { classifyHttpStatus, integerField, parseJsonObject, snippet, type VendorAnswer } from '../vendorHttp';

/** The access token in a URL hidden, for logs and error messages. */
export function maskWorkToken(text: string): string {
  return text.replace(/([?&](?:access_token|appsecret)=)[^&\s"']*/gi, '$1***');
}

/**
 * "The access token is invalid / expired" (40014 不合法的access_token, 42001 access_token超时; topapi may wrap
 * them as errcode 88 with that `sub_code`): fetch a new token and try once more.
 */
const TOKEN_EXPIRED = new Set([40014, 42001]);
/** -1 "system busy": nothing wrong with the request, try again. */
const BUSY = new Set([-1]);

export type WorkAnswer =
  | { kind: 'ok'; body: Record<string, unknown> }
  | { kind: 'token_expired'; outcome: SendOutcome }
  | { kind: 'failed'; outcome: SendOutcome };

/**
 * Decides from the HTTP status and `errcode`, never from `errmsg`
 * (https://open.dingtalk.com/document/orgapp/server-api-error-codes). Every other non-zero errcode (bad
 * agent id, bad user list, no permission, bad message) is permanent: the same request gets the same answer.
 */
export function classifyWorkAnswer(answer: VendorAnswer): WorkAnswer {
  const byStatus = classifyHttpStatus('dingtalk_work', answer, maskWorkToken);
  if (byStatus) return { kind: 'failed', outcome: byStatus };
  const body = parseJsonObject(answer.body);
  const errcode = body ? integerField(body, 'errcode') : undefined;
  if (!body || errcode === undefined) {
    return {
      kind: 'failed',
      outcome: {
        kind: 'retryable',
        code: 'dingtalk_work_bad_answer',
        message: `HTTP ${answer.status} without a JSON errcode${snippet(answer.body, maskWorkToken)}`,
      },
    };
  }
  if (errcode === 0) return { kind: 'ok', body };
  const errmsg = typeof body.errmsg === 'string' ? body.errmsg : '';
  const subCode = integerField(body, 'sub_code');
  const effective = errcode === 88 && subCode !== undefined ? subCode : errcode;
  const out = { code: `dingtalk_work_${effective}`, message: maskWorkToken(`errcode ${errcode}: ${errmsg}`) };
  if (TOKEN_EXPIRED.has(effective)) return { kind: 'token_expired', outcome: { kind: 'retryable', ...out } };
  if (BUSY.has(effective)) return { kind: 'failed', outcome: { kind: 'retryable', ...out } };
  return { kind: 'failed', outcome: { kind: 'permanent', ...out } };
}
