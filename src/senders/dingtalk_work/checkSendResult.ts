import type { SendOutcome } from '../sender';
import type { EgressGuard } from '../egress';
import { classifyRequestError, requestVendor } from '../vendorHttp';
import { callWithToken, type AccessTokens } from './accessTokens';
import { classifyWorkAnswer, maskWorkToken } from './classifyWorkAnswer';
import type { WorkAppAccount } from './workJob';

/** What became of one recipient of an accepted task. */
export type WorkDeliveryResult =
  | { status: 'delivered'; read: boolean }
  | { status: 'failed'; code: string; reason: string }
  /** In none of the lists yet: DingTalk is still working on the task; check again later. */
  | { status: 'pending' };

export type WorkCheckOutcome =
  | { kind: 'checked'; results: Map<string, WorkDeliveryResult> }
  /** The check itself failed (network, token, DingTalk busy); the outcome says whether to try it again. */
  | { kind: 'unchecked'; outcome: Exclude<SendOutcome, { kind: 'sent' } | { kind: 'deferred' }> };

const stringList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/**
 * Classifies getsendresult's `send_result` for the given recipients
 * (https://open.dingtalk.com/document/orgapp/gets-the-result-of-sending-messages-asynchronously-to-the-enterprise):
 * read / unread lists mean delivered; `forbidden_user_id_list` are users DingTalk accepted the message for and
 * then dropped by its flow control (same content to the same user more than once a day, over the per-user
 * daily limit), with the rule's code and threshold in `forbidden_list`; `invalid_user_id_list` and
 * `failed_user_id_list` failed outright. A failure is reported as such, never as sent.
 */
export function classifySendResult(
  sendResult: unknown,
  userIds: readonly string[],
): Map<string, WorkDeliveryResult> {
  const r =
    typeof sendResult === 'object' && sendResult !== null ? (sendResult as Record<string, unknown>) : {};
  const read = new Set(stringList(r.read_user_id_list));
  const unread = new Set(stringList(r.unread_user_id_list));
  const invalid = new Set(stringList(r.invalid_user_id_list));
  const failed = new Set(stringList(r.failed_user_id_list));
  const forbidden = new Set(stringList(r.forbidden_user_id_list));
  const rules = new Map<string, { code: string; count?: number }>();
  for (const item of Array.isArray(r.forbidden_list) ? r.forbidden_list : []) {
    if (typeof item !== 'object' || item === null) continue;
    const { userid, code, count } = item as Record<string, unknown>;
    if (typeof userid !== 'string') continue;
    forbidden.add(userid);
    rules.set(userid, {
      code: typeof code === 'string' || typeof code === 'number' ? String(code) : 'unknown',
      ...(typeof count === 'number' ? { count } : {}),
    });
  }

  const results = new Map<string, WorkDeliveryResult>();
  for (const user of userIds) {
    if (forbidden.has(user)) {
      const rule = rules.get(user);
      results.set(user, {
        status: 'failed',
        code: `dingtalk_work_forbidden${rule ? `_${rule.code}` : ''}`,
        reason:
          'DingTalk accepted the message but did not deliver it: over its flow control' +
          (rule ? ` (rule ${rule.code}${rule.count !== undefined ? `, limit ${rule.count}` : ''})` : ''),
      });
    } else if (invalid.has(user)) {
      results.set(user, {
        status: 'failed',
        code: 'dingtalk_work_invalid_user',
        reason: `DingTalk knows no user ${user} in this organisation`,
      });
    } else if (failed.has(user)) {
      results.set(user, {
        status: 'failed',
        code: 'dingtalk_work_failed',
        reason: 'DingTalk reports the send as failed',
      });
    } else if (read.has(user) || unread.has(user)) {
      results.set(user, { status: 'delivered', read: read.has(user) });
    } else {
      results.set(user, { status: 'pending' });
    }
  }
  return results;
}

export interface WorkResultCheckerDeps {
  tokens: AccessTokens;
  baseUrl: string;
  egress: EgressGuard;
  timeoutMs?: number;
}

export interface WorkResultChecker {
  check(account: WorkAppAccount, taskId: string, userIds: readonly string[]): Promise<WorkCheckOutcome>;
}

/** Asks getsendresult about one task and classifies it for the task's recipients. Never throws for an answer. */
export function createWorkResultChecker(deps: WorkResultCheckerDeps): WorkResultChecker {
  const timeoutMs = deps.timeoutMs ?? 10_000;
  return {
    async check(account, taskId, userIds) {
      const url = new URL('/topapi/message/corpconversation/getsendresult', account.apiBase ?? deps.baseUrl);
      const body = { agent_id: account.agentId, task_id: Number(taskId) };
      const call = async (token: string) => {
        url.searchParams.set('access_token', token);
        return classifyWorkAnswer(await requestVendor(deps.egress, 'POST', url.toString(), body, timeoutMs));
      };
      try {
        const answer = await callWithToken(deps.tokens, account, call);
        if (answer.kind !== 'ok') return unchecked(answer.outcome);
        return { kind: 'checked', results: classifySendResult(answer.body.send_result, userIds) };
      } catch (err) {
        return unchecked(classifyRequestError('dingtalk_work', err, maskWorkToken));
      }
    },
  };
}

function unchecked(outcome: SendOutcome): WorkCheckOutcome {
  if (outcome.kind === 'sent' || outcome.kind === 'deferred')
    return {
      kind: 'unchecked',
      outcome: { kind: 'retryable', code: 'dingtalk_work_bad_answer', message: 'unexpected outcome' },
    };
  return { kind: 'unchecked', outcome };
}
