import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** An answer the robot gives instead of checking the request; `body` is sent as JSON unless a string. */
export interface RobotAnswer {
  status?: number;
  body: unknown;
  delayMs?: number;
}

export interface RobotRequest {
  receivedAt: number;
  accessToken: string | null;
  timestamp: string | null;
  sign: string | null;
  contentType: string | undefined;
  /** The parsed JSON body (the raw text when it is not JSON). */
  body: unknown;
  /** What the robot answered. */
  status: number;
  answer: unknown;
}

export interface FakeRobotOptions {
  /** Signing secret; without one the robot does not check signatures. */
  secret?: string;
  accessToken?: string;
  /** DingTalk's limit: at most `perWindow` messages per `windowMs`, else errcode 410100. */
  rateLimit?: { perWindow: number; windowMs: number };
}

export interface FakeRobot {
  /** The webhook to configure, including `access_token`. */
  url: string;
  secret: string | undefined;
  accessToken: string;
  /** Every request, in arrival order. */
  requests: RobotRequest[];
  /** Bodies of the messages the robot accepted (errcode 0). */
  accepted(): unknown[];
  /** Answer the next requests with these, one each, before any check. */
  answerNext(...answers: RobotAnswer[]): void;
  waitForAccepted(count: number, timeoutMs?: number): Promise<unknown[]>;
  close(): Promise<void>;
}

const SKEW_LIMIT_MS = 60 * 60_000;
const MSGTYPES = new Set(['text', 'markdown', 'link', 'actionCard', 'feedCard']);

/**
 * A local stand-in for `https://oapi.dingtalk.com/robot/send` that checks what DingTalk checks: the
 * access token, the timestamp (within one hour of now), the HMAC-SHA256 signature of
 * `timestamp + "\n" + secret`, the msgtype, and the per-robot rate limit, and answers with DingTalk's codes.
 */
export async function startFakeRobot(opts: FakeRobotOptions = {}): Promise<FakeRobot> {
  const accessToken = opts.accessToken ?? randomBytes(16).toString('hex');
  const limit = opts.rateLimit ?? { perWindow: 20, windowMs: 60_000 };
  const requests: RobotRequest[] = [];
  const queued: RobotAnswer[] = [];
  const acceptedAt: number[] = [];

  const check = (q: URLSearchParams, body: unknown, now: number): unknown => {
    if (q.get('access_token') !== accessToken) return { errcode: 400101, errmsg: 'access_token不存在' };
    if (opts.secret) {
      const ts = q.get('timestamp');
      const sign = q.get('sign');
      if (!ts || !/^\d+$/.test(ts) || Math.abs(now - Number(ts)) > SKEW_LIMIT_MS) {
        return { errcode: 310000, errmsg: 'invalid timestamp' };
      }
      const expected = createHmac('sha256', opts.secret).update(`${ts}\n${opts.secret}`).digest('base64');
      if (sign !== expected) return { errcode: 310000, errmsg: 'sign not match' };
    }
    const msgtype =
      typeof body === 'object' && body !== null ? (body as { msgtype?: unknown }).msgtype : undefined;
    if (typeof msgtype !== 'string') return { errcode: 40035, errmsg: '缺少参数 json' };
    if (!MSGTYPES.has(msgtype)) return { errcode: 400105, errmsg: '不支持的消息类型' };
    while (acceptedAt.length > 0 && acceptedAt[0]! <= now - limit.windowMs) acceptedAt.shift();
    if (acceptedAt.length >= limit.perWindow) {
      return { errcode: 410100, errmsg: `send too fast, exceed ${limit.perWindow} times per minute` };
    }
    acceptedAt.push(now);
    return { errcode: 0, errmsg: 'ok' };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // Not Date.now(): a test may shift the sender's clock, the robot keeps real time.
      const now = Math.round(performance.timeOrigin + performance.now());
      const q = new URL(req.url ?? '/', 'http://robot').searchParams;
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // recorded as text
      }
      const override = queued.shift();
      const status = override?.status ?? 200;
      const answer = override ? override.body : check(q, body, now);
      requests.push({
        receivedAt: now,
        accessToken: q.get('access_token'),
        timestamp: q.get('timestamp'),
        sign: q.get('sign'),
        contentType: req.headers['content-type'],
        body,
        status,
        answer,
      });
      const reply = () => {
        res.writeHead(status, {
          'content-type': typeof answer === 'string' ? 'text/html' : 'application/json',
        });
        res.end(typeof answer === 'string' ? answer : JSON.stringify(answer));
      };
      if (override?.delayMs) setTimeout(reply, override.delayMs);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const accepted = () =>
    requests.filter((r) => (r.answer as { errcode?: unknown } | null)?.errcode === 0).map((r) => r.body);

  return {
    url: `http://127.0.0.1:${port}/robot/send?access_token=${accessToken}`,
    secret: opts.secret,
    accessToken,
    requests,
    accepted,
    answerNext(...answers) {
      queued.push(...answers);
    },
    async waitForAccepted(count, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (accepted().length < count) {
        if (Date.now() > until)
          throw new Error(`fake robot: ${accepted().length} of ${count} messages accepted`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return accepted();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
