import { createHmac, randomBytes } from 'node:crypto';
import { slidingWindows, startFakeVendorServer, type FakeVendorServer } from './fakeVendor';

export interface FakeFeishuOptions {
  /** Signing secret; without one the bot does not check signatures. */
  secret?: string;
  hookToken?: string;
  /** Feishu's limits per bot: 5 a second and 100 a minute, else code 11232. */
  limits?: Array<{ limit: number; windowMs: number }>;
}

export interface FakeFeishu extends FakeVendorServer {
  /** The webhook to configure, including the hook token. */
  webhook: string;
  hookToken: string;
  /** Bodies of the messages the bot accepted (code 0). */
  accepted(): unknown[];
}

const SKEW_LIMIT_SEC = 60 * 60;
const MSG_TYPES = new Set(['text', 'post', 'image', 'share_chat', 'interactive']);

/**
 * A local stand-in for `https://open.feishu.cn/open-apis/bot/v2/hook/<token>` that checks what Feishu
 * checks: the hook token, the body's timestamp (seconds, within an hour) and its signature
 * (HMAC-SHA256 keyed by `timestamp + "\n" + secret` over nothing), the msg_type and its content, and the
 * per-bot limits, answering with Feishu's codes.
 */
export async function startFakeFeishu(opts: FakeFeishuOptions = {}): Promise<FakeFeishu> {
  const hookToken = opts.hookToken ?? randomBytes(12).toString('hex');
  const limits = slidingWindows(
    opts.limits ?? [
      { limit: 5, windowMs: 1000 },
      { limit: 100, windowMs: 60_000 },
    ],
  );

  const server = await startFakeVendorServer(({ method, path, body, now }) => {
    if (method !== 'POST' || path !== `/open-apis/bot/v2/hook/${hookToken}`)
      return { body: { code: 19001, msg: 'param invalid: incoming webhook access token invalid', data: {} } };
    const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    if (opts.secret) {
      const ts = typeof b.timestamp === 'string' ? b.timestamp : '';
      const expected = createHmac('sha256', `${ts}\n${opts.secret}`).update('').digest('base64');
      if (!/^\d+$/.test(ts) || Math.abs(now / 1000 - Number(ts)) > SKEW_LIMIT_SEC || b.sign !== expected) {
        return {
          body: {
            code: 19021,
            msg: 'sign match fail or timestamp is not within one hour from current time',
            data: {},
          },
        };
      }
    }
    if (typeof b.msg_type !== 'string' || !MSG_TYPES.has(b.msg_type))
      return { body: { code: 19002, msg: 'params error, msg_type need', data: {} } };
    const hasContent =
      b.msg_type === 'interactive' ? typeof b.card === 'object' : typeof b.content === 'object';
    if (!hasContent) return { body: { code: 9499, msg: 'Bad Request', data: {} } };
    if (!limits.admit(now))
      return {
        body: { code: 11232, msg: 'frequency limited psm[lark.oapi.app_platform_runtime]appID[1]', data: {} },
      };
    return { body: { code: 0, msg: 'success', data: {} } };
  });
  return {
    ...server,
    webhook: `${server.baseUrl}/open-apis/bot/v2/hook/${hookToken}`,
    hookToken,
    accepted: () =>
      server.requests.filter((r) => (r.answer as { code?: unknown } | null)?.code === 0).map((r) => r.body),
  };
}
