import { createHash } from 'node:crypto';
import type { EgressGuard } from '../egress';
import type { SendOutcome } from '../sender';
import { classifyRequestError, integerField, requestVendor } from '../vendorHttp';
import { classifyWorkAnswer, maskWorkToken, type WorkAnswer } from './classifyWorkAnswer';
import type { WorkAppAccount } from './workJob';

export type TokenAnswer = { ok: true; token: string } | { ok: false; outcome: SendOutcome };

export interface AccessTokens {
  /** The app's token: the cached one while it has more than the margin left, else a fresh one. */
  get(account: WorkAppAccount): Promise<TokenAnswer>;
  /** Forgets `token` after DingTalk called it expired (a newer token already cached is kept). */
  invalidate(account: WorkAppAccount, token: string): void;
}

export interface AccessTokenOptions {
  baseUrl: string;
  timeoutMs: number;
  egress: EgressGuard;
  now?: () => number;
  /** Refresh this long before DingTalk's `expires_in` runs out. */
  marginMs?: number;
}

/**
 * A cache of app access tokens per process, one entry per app key and secret, with one fetch in flight per
 * app however many sends ask at once.
 *
 * Per process and not in the database, on purpose: DingTalk answers gettoken within a token's validity with
 * the same token and extends it (https://open.dingtalk.com/document/orgapp/obtain-orgapp-token: 有效期内重复
 * 获取会返回相同结果并自动续期), so instances fetching their own do not invalidate each other, and the token —
 * a credential — is never stored. It costs one gettoken per instance per two hours.
 */
export function createAccessTokens(opts: AccessTokenOptions): AccessTokens {
  const now = opts.now ?? Date.now;
  const marginMs = opts.marginMs ?? 5 * 60_000;
  const cache = new Map<string, { token: string; refreshAt: number }>();
  const inFlight = new Map<string, Promise<TokenAnswer>>();
  const keyOf = (a: WorkAppAccount) =>
    `${a.apiBase ?? opts.baseUrl}\n${a.appKey}:${createHash('sha256').update(a.appSecret).digest('hex').slice(0, 16)}`;

  const fetchToken = async (account: WorkAppAccount, key: string): Promise<TokenAnswer> => {
    const url = new URL('/gettoken', account.apiBase ?? opts.baseUrl);
    url.searchParams.set('appkey', account.appKey);
    url.searchParams.set('appsecret', account.appSecret);
    let answer;
    try {
      answer = classifyWorkAnswer(
        await requestVendor(opts.egress, 'GET', url.toString(), undefined, opts.timeoutMs),
      );
    } catch (err) {
      return { ok: false, outcome: classifyRequestError('dingtalk_work', err, maskWorkToken) };
    }
    if (answer.kind !== 'ok') return { ok: false, outcome: answer.outcome };
    const token = answer.body.access_token;
    const expiresIn = integerField(answer.body, 'expires_in') ?? 7200;
    if (typeof token !== 'string' || !token) {
      return {
        ok: false,
        outcome: {
          kind: 'retryable',
          code: 'dingtalk_work_bad_answer',
          message: 'gettoken answered without access_token',
        },
      };
    }
    const lifeMs = expiresIn * 1000;
    cache.set(key, { token, refreshAt: now() + Math.max(lifeMs - marginMs, lifeMs / 2) });
    return { ok: true, token };
  };

  return {
    get(account) {
      const key = keyOf(account);
      const cached = cache.get(key);
      if (cached && now() < cached.refreshAt) return Promise.resolve({ ok: true, token: cached.token });
      const pending = inFlight.get(key);
      if (pending) return pending;
      const started = fetchToken(account, key).finally(() => inFlight.delete(key));
      inFlight.set(key, started);
      return started;
    },
    invalidate(account, token) {
      const key = keyOf(account);
      if (cache.get(key)?.token === token) cache.delete(key);
    },
  };
}

/**
 * Calls DingTalk with the app's token; when DingTalk calls the token expired, fetches a new one and calls
 * once more (a token DingTalk just issued and calls expired again is not a token problem).
 */
export async function callWithToken(
  tokens: AccessTokens,
  account: WorkAppAccount,
  call: (token: string) => Promise<WorkAnswer>,
): Promise<Exclude<WorkAnswer, { kind: 'token_expired' }>> {
  for (let round = 0; ; round++) {
    const token = await tokens.get(account);
    if (!token.ok) return { kind: 'failed', outcome: token.outcome };
    const answer = await call(token.token);
    if (answer.kind !== 'token_expired') return answer;
    tokens.invalidate(account, token.token);
    if (round === 1) return { kind: 'failed', outcome: answer.outcome };
  }
}
