import { randomUUID } from 'node:crypto';
import { slidingWindows, startFakeVendorServer, type FakeVendorServer } from './fakeVendor';

export interface FakeWecomOptions {
  key?: string;
  /** WeCom's limit: 20 a minute per robot, else errcode 45009. */
  rateLimit?: { limit: number; windowMs: number };
}

export interface FakeWecom extends FakeVendorServer {
  /** The webhook to configure, including `key`. */
  webhook: string;
  key: string;
  accepted(): unknown[];
}

const BYTE_LIMITS: Record<string, number> = { text: 2048, markdown: 4096 };

/**
 * A local stand-in for `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…` that checks what WeCom
 * checks: the key, the msgtype, the content and its byte length, the news articles, and the robot's rate
 * limit, answering with WeCom's errcodes. WeCom robots carry no timestamp, so there is no clock window.
 */
export async function startFakeWecom(opts: FakeWecomOptions = {}): Promise<FakeWecom> {
  const key = opts.key ?? randomUUID();
  const limit = slidingWindows([opts.rateLimit ?? { limit: 20, windowMs: 60_000 }]);
  const server = await startFakeVendorServer(({ method, path, query, body, now }) => {
    if (method !== 'POST' || path !== '/cgi-bin/webhook/send' || query.get('key') !== key)
      return { body: { errcode: 93000, errmsg: 'invalid webhook url, hint: [1] from ip: 127.0.0.1' } };
    const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const type = b.msgtype;
    if (type !== 'text' && type !== 'markdown' && type !== 'news')
      return { body: { errcode: 40008, errmsg: 'invalid message type' } };
    const part = b[type] as Record<string, unknown> | undefined;
    if (type === 'news') {
      const articles = part?.articles;
      if (!Array.isArray(articles) || articles.length < 1 || articles.length > 8)
        return { body: { errcode: 40058, errmsg: 'articles size invalid' } };
    } else {
      const content = part?.content;
      if (typeof content !== 'string' || content === '')
        return { body: { errcode: 44004, errmsg: 'empty content' } };
      if (Buffer.byteLength(content, 'utf8') > BYTE_LIMITS[type]!)
        return { body: { errcode: 45002, errmsg: 'content size out of limit' } };
    }
    if (!limit.admit(now)) return { body: { errcode: 45009, errmsg: 'api freq out of limit' } };
    return { body: { errcode: 0, errmsg: 'ok' } };
  });
  return {
    ...server,
    webhook: `${server.baseUrl}/cgi-bin/webhook/send?key=${key}`,
    key,
    accepted: () =>
      server.requests
        .filter((r) => (r.answer as { errcode?: unknown } | null)?.errcode === 0)
        .map((r) => r.body),
  };
}
