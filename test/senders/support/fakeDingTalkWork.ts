import { randomBytes } from 'node:crypto';
import { startFakeVendorServer, type FakeVendorServer } from './fakeVendor';

export interface FakeDingTalkWorkOptions {
  appKey?: string;
  appSecret?: string;
  agentId?: number;
  /** Users of the organisation; others come back in `invalid_user_id_list`. */
  users?: string[];
  /** Seconds a token lives (DingTalk: 7200). */
  tokenTtlSec?: number;
  /** Messages one user may receive from the app a day before DingTalk drops the rest (enterprise apps: 500). */
  perUserDailyLimit?: number;
}

interface Task {
  id: number;
  userIds: string[];
  msg: unknown;
  result: {
    read_user_id_list: string[];
    unread_user_id_list: string[];
    invalid_user_id_list: string[];
    forbidden_user_id_list: string[];
    failed_user_id_list: string[];
    invalid_dept_id_list: number[];
    forbidden_list: Array<{ code: string; count: number; userid: string }>;
  };
}

export interface FakeDingTalkWork extends FakeVendorServer {
  appKey: string;
  appSecret: string;
  agentId: number;
  tasks: Task[];
  /** Every token issued so far stops working, as at the end of its validity. */
  expireTokens(): void;
  /** getsendresult answers with empty lists (the task still running) while true. */
  resultsPending: boolean;
}

const MAX_USERS = 100;
const MAX_MSG_BYTES = 2048;
/** The fake's flow-control rule codes for `forbidden_list`. */
export const SAME_CONTENT_RULE = '143103';
export const DAILY_LIMIT_RULE = '143104';

/**
 * A local stand-in for DingTalk's work-notification API at `oapi.dingtalk.com`: `GET /gettoken` checks the
 * app key and secret and hands out a token (the same one while valid), asyncsend_v2 checks the token (expired
 * → 42001, unknown → 40014), agent id, user list (at most 100) and msg (at most 2048 bytes) and answers a
 * task id, and getsendresult reports each user as DingTalk does — including the users it accepted and then
 * dropped by flow control: the same content to the same user twice in a day, or over the daily limit.
 */
export async function startFakeDingTalkWork(opts: FakeDingTalkWorkOptions = {}): Promise<FakeDingTalkWork> {
  const appKey = opts.appKey ?? 'dingkey' + randomBytes(4).toString('hex');
  const appSecret = opts.appSecret ?? randomBytes(16).toString('hex');
  const agentId = opts.agentId ?? 2_345_678;
  const users = opts.users ? new Set(opts.users) : undefined;
  const ttlMs = (opts.tokenTtlSec ?? 7200) * 1000;
  const dailyLimit = opts.perUserDailyLimit ?? 500;
  const tokens = new Map<string, { expiresAt: number; revoked: boolean }>();
  let current: string | undefined;
  const tasks: Task[] = [];
  const receivedToday = new Map<string, number>();
  const contentSeen = new Set<string>();
  const state = { resultsPending: false };

  const tokenError = (token: string | null, now: number) => {
    const t = token ? tokens.get(token) : undefined;
    if (!t) return { errcode: 40014, errmsg: '不合法的access_token' };
    if (t.revoked || now >= t.expiresAt) return { errcode: 42001, errmsg: 'access_token超时' };
    return undefined;
  };

  const server = await startFakeVendorServer(({ method, path, query, body, now }) => {
    if (method === 'GET' && path === '/gettoken') {
      if (query.get('appkey') !== appKey || query.get('appsecret') !== appSecret)
        return { body: { errcode: 40089, errmsg: '不合法的appKey或appSecret' } };
      const live = current ? tokens.get(current) : undefined;
      if (!current || !live || live.revoked || now >= live.expiresAt) {
        current = randomBytes(16).toString('hex');
        tokens.set(current, { expiresAt: now + ttlMs, revoked: false });
      } else {
        live.expiresAt = now + ttlMs;
      }
      return { body: { errcode: 0, errmsg: 'ok', access_token: current, expires_in: ttlMs / 1000 } };
    }
    const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    if (method === 'POST' && path === '/topapi/message/corpconversation/asyncsend_v2') {
      const bad = tokenError(query.get('access_token'), now);
      if (bad) return { body: bad };
      if (b.agent_id !== agentId) return { body: { errcode: 60011, errmsg: '没有调用该接口的权限' } };
      if (typeof b.userid_list !== 'string' || b.userid_list === '')
        return { body: { errcode: 40035, errmsg: '缺少参数 userid_list' } };
      const userIds = b.userid_list.split(',');
      if (userIds.length > MAX_USERS) return { body: { errcode: 40035, errmsg: 'userid_list 最大长度100' } };
      const msg = b.msg as { msgtype?: unknown } | undefined;
      if (!msg || typeof msg.msgtype !== 'string')
        return { body: { errcode: 40035, errmsg: '缺少参数 msg' } };
      if (Buffer.byteLength(JSON.stringify(msg), 'utf8') > MAX_MSG_BYTES)
        return { body: { errcode: 40035, errmsg: 'msg 超过2048字节' } };
      const task: Task = {
        id: 100_000 + tasks.length + 1,
        userIds,
        msg,
        result: {
          read_user_id_list: [],
          unread_user_id_list: [],
          invalid_user_id_list: [],
          forbidden_user_id_list: [],
          failed_user_id_list: [],
          invalid_dept_id_list: [],
          forbidden_list: [],
        },
      };
      const content = JSON.stringify(msg);
      for (const user of userIds) {
        if (users && !users.has(user)) {
          task.result.invalid_user_id_list.push(user);
          continue;
        }
        const seenKey = `${user}\n${content}`;
        const count = receivedToday.get(user) ?? 0;
        if (contentSeen.has(seenKey)) {
          task.result.forbidden_user_id_list.push(user);
          task.result.forbidden_list.push({ code: SAME_CONTENT_RULE, count: 1, userid: user });
        } else if (count >= dailyLimit) {
          task.result.forbidden_user_id_list.push(user);
          task.result.forbidden_list.push({ code: DAILY_LIMIT_RULE, count: dailyLimit, userid: user });
        } else {
          contentSeen.add(seenKey);
          receivedToday.set(user, count + 1);
          task.result.unread_user_id_list.push(user);
        }
      }
      tasks.push(task);
      // Success even for the users it will drop: that is what the later check is for.
      return {
        body: { errcode: 0, errmsg: 'ok', task_id: task.id, request_id: randomBytes(6).toString('hex') },
      };
    }
    if (method === 'POST' && path === '/topapi/message/corpconversation/getsendresult') {
      const bad = tokenError(query.get('access_token'), now);
      if (bad) return { body: bad };
      if (b.agent_id !== agentId) return { body: { errcode: 60011, errmsg: '没有调用该接口的权限' } };
      const task = tasks.find((t) => t.id === b.task_id);
      if (!task) return { body: { errcode: 40035, errmsg: '不合法的task_id' } };
      const empty = {
        ...task.result,
        unread_user_id_list: [],
        forbidden_user_id_list: [],
        forbidden_list: [],
        invalid_user_id_list: [],
      };
      return {
        body: {
          errcode: 0,
          errmsg: 'ok',
          send_result: state.resultsPending ? empty : task.result,
          request_id: 'r',
        },
      };
    }
    return { status: 404, body: { errcode: 22, errmsg: 'Invalid method' } };
  });

  const fake: FakeDingTalkWork = {
    ...server,
    appKey,
    appSecret,
    agentId,
    tasks,
    expireTokens() {
      for (const t of tokens.values()) t.revoked = true;
    },
    get resultsPending() {
      return state.resultsPending;
    },
    set resultsPending(v: boolean) {
      state.resultsPending = v;
    },
  };
  return fake;
}
