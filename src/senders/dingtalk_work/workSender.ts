import type { FastifyBaseLogger } from 'fastify';
import type { EgressGuard } from '../egress';
import type { Sender, SendOutcome } from '../sender';
import { classifyRequestError, integerField, requestVendor } from '../vendorHttp';
import { callWithToken, createAccessTokens, type AccessTokens } from './accessTokens';
import { buildWorkMessage, contentKey, WorkMessageError, type WorkMessage } from './buildWorkMessage';
import { classifyWorkAnswer, maskWorkToken } from './classifyWorkAnswer';
import { WORK_DEFAULT_BASE_URL } from './workAccount';
import type { DingTalkWorkJob, WorkAppAccount } from './workJob';

/**
 * asyncsend_v2 takes at most 100 user ids per call
 * (https://open.dingtalk.com/document/orgapp/asynchronous-sending-of-enterprise-session-messages:
 * userid_list 最大用户列表长度100).
 */
export const WORK_USERS_PER_CALL = 100;

export interface DingTalkWorkSenderDeps {
  log: Pick<FastifyBaseLogger, 'info' | 'warn'>;
  /** Where requests may go (the channel's vendor hosts and HERALD_WEBHOOK_ALLOW_HOSTS). */
  egress: EgressGuard;
  /** DingTalk's server API; a local stand-in in tests. */
  baseUrl?: string;
  timeoutMs?: number;
  /** Shared with the result checker so both use one token per app. */
  tokens?: AccessTokens;
}

export interface DingTalkWorkSender extends Sender<DingTalkWorkJob> {
  sendMany(jobs: DingTalkWorkJob[]): Promise<SendOutcome[]>;
}

/**
 * Sends work notifications with asyncsend_v2: jobs whose rendered message is identical (same app, same
 * `msg`) share one call of at most 100 recipients, and each job's outcome carries the call's task id as
 * `providerId`. `sent` here means DingTalk accepted the task; whether each person got it is for the
 * getsendresult check (`createWorkResultChecker`) to say, since DingTalk accepts and then drops messages
 * over its limits.
 */
export function createDingTalkWorkSender(deps: DingTalkWorkSenderDeps): DingTalkWorkSender {
  const baseUrl = deps.baseUrl ?? WORK_DEFAULT_BASE_URL;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const tokens = deps.tokens ?? createAccessTokens({ baseUrl, timeoutMs, egress: deps.egress });

  const sendBatch = async (
    account: WorkAppAccount,
    msg: WorkMessage,
    userIds: string[],
  ): Promise<SendOutcome> => {
    const body = { agent_id: account.agentId, userid_list: userIds.join(','), msg };
    const url = new URL('/topapi/message/corpconversation/asyncsend_v2', account.apiBase ?? baseUrl);
    const call = async (token: string) => {
      url.searchParams.set('access_token', token);
      return classifyWorkAnswer(await requestVendor(deps.egress, 'POST', url.toString(), body, timeoutMs));
    };
    try {
      const answer = await callWithToken(tokens, account, call);
      if (answer.kind !== 'ok') return answer.outcome;
      const taskId = integerField(answer.body, 'task_id');
      if (taskId === undefined)
        return {
          kind: 'retryable',
          code: 'dingtalk_work_bad_answer',
          message: 'asyncsend_v2 answered without task_id',
        };
      return { kind: 'sent', providerId: String(taskId) };
    } catch (err) {
      return classifyRequestError('dingtalk_work', err, maskWorkToken);
    }
  };

  const sendMany = async (jobs: DingTalkWorkJob[]): Promise<SendOutcome[]> => {
    const outcomes: SendOutcome[] = new Array<SendOutcome>(jobs.length);
    const groups = new Map<string, { account: WorkAppAccount; msg: WorkMessage; indexes: number[] }>();
    jobs.forEach((job, i) => {
      let msg: WorkMessage;
      try {
        msg = buildWorkMessage(job);
      } catch (err) {
        if (!(err instanceof WorkMessageError)) throw err;
        outcomes[i] = { kind: 'permanent', code: err.code, message: err.message };
        return;
      }
      if (!job.userId) {
        outcomes[i] = {
          kind: 'permanent',
          code: 'dingtalk_work_no_user',
          message: 'the recipient has no dingtalkUserId',
        };
        return;
      }
      const key = contentKey(job, msg);
      const group = groups.get(key) ?? { account: job.account, msg, indexes: [] };
      group.indexes.push(i);
      groups.set(key, group);
    });
    await Promise.all(
      [...groups.values()].flatMap((g) =>
        chunkByUsers(g.indexes, (i) => jobs[i]!.userId).map(async (chunk) => {
          const userIds = [...new Set(chunk.map((i) => jobs[i]!.userId))];
          const outcome = await sendBatch(g.account, g.msg, userIds);
          for (const i of chunk) outcomes[i] = outcome;
        }),
      ),
    );
    return outcomes;
  };

  return {
    channel: 'dingtalk_work',
    send: async (job) => (await sendMany([job]))[0]!,
    sendMany,
  };
}

/** Splits job indexes into chunks of at most WORK_USERS_PER_CALL distinct users. */
function chunkByUsers(indexes: number[], userOf: (i: number) => string): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let users = new Set<string>();
  for (const i of indexes) {
    const user = userOf(i);
    if (!users.has(user) && users.size === WORK_USERS_PER_CALL) {
      chunks.push(current);
      current = [];
      users = new Set();
    }
    users.add(user);
    current.push(i);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
