import { createDingTalkSender } from '../../src/senders/dingtalk/dingtalkSender';
import type { RobotBudget } from '../../src/senders/dingtalk/robotBudget';
import type { DingTalkJob, RobotAccountConfig } from '../../src/senders/dingtalk/robotJob';
import { startFakeRobot, type FakeRobot } from './support/fakeRobot';
import { localEgress } from './support/localEgress';

const SECRET = 'SECb1f2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';
const silentLog = { info: () => undefined, warn: () => undefined };
const unlimited: RobotBudget = {
  windows: [{ limit: 20, windowMs: 60_000 }],
  acquire: async () => ({ ok: true, settle: async () => undefined }),
  hold: async () => undefined,
};

function job(account: RobotAccountConfig, over: Partial<DingTalkJob> = {}): DingTalkJob {
  return {
    channel: 'dingtalk',
    deliveryId: 'dlv-1',
    messageId: 'order-981-shipped',
    attempt: 1,
    account,
    msgtype: 'text',
    text: 'Order 981 shipped',
    atMobiles: ['13800000000'],
    atUserIds: ['manager123'],
    isAtAll: false,
    ...over,
  };
}

describe('dingtalk robot sender', () => {
  let robot: FakeRobot;
  let account: RobotAccountConfig;
  const sender = createDingTalkSender({
    egress: localEgress(),
    budget: unlimited,
    log: silentLog,
    timeoutMs: 1000,
  });

  beforeEach(async () => {
    robot = await startFakeRobot({ secret: SECRET });
    account = { name: 'ops-robot', webhook: robot.url, secret: SECRET };
  });
  afterEach(() => robot.close());

  it('signs the request and posts a text message with its mentions', async () => {
    const before = Date.now();
    expect(await sender.send(job(account))).toEqual({ kind: 'sent' });
    const [req] = robot.requests;
    expect(req?.answer).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(req?.contentType).toMatch(/^application\/json/);
    expect(Number(req?.timestamp)).toBeGreaterThanOrEqual(before);
    expect(req?.body).toEqual({
      msgtype: 'text',
      text: { content: 'Order 981 shipped\n@13800000000 @manager123' },
      at: { atMobiles: ['13800000000'], atUserIds: ['manager123'], isAtAll: false },
    });
  });

  it('does not repeat a mention the text already has, and passes isAtAll', async () => {
    await sender.send(job(account, { text: 'Hi @13800000000, order shipped', atUserIds: [], isAtAll: true }));
    expect(robot.requests[0]?.body).toEqual({
      msgtype: 'text',
      text: { content: 'Hi @13800000000, order shipped' },
      at: { atMobiles: ['13800000000'], atUserIds: [], isAtAll: true },
    });
  });

  it('posts markdown, link and actionCard bodies', async () => {
    const results = [
      await sender.send(
        job(account, { msgtype: 'markdown', title: 'Order 981', text: '### Order 981 shipped' }),
      ),
      await sender.send(
        job(account, {
          msgtype: 'link',
          title: 'Order 981',
          text: 'It arrives tomorrow',
          url: 'https://shop.example.com/orders/981',
          picUrl: 'https://shop.example.com/981.png',
        }),
      ),
      await sender.send(
        job(account, {
          msgtype: 'actionCard',
          title: 'Order 981',
          text: '### Shipped',
          url: 'https://shop.example.com/orders/981',
          btnTitle: 'Open order',
        }),
      ),
    ];
    expect(results).toEqual([{ kind: 'sent' }, { kind: 'sent' }, { kind: 'sent' }]);
    expect(robot.requests.map((r) => r.body)).toEqual([
      {
        msgtype: 'markdown',
        markdown: { title: 'Order 981', text: '### Order 981 shipped\n\n@13800000000 @manager123' },
        at: { atMobiles: ['13800000000'], atUserIds: ['manager123'], isAtAll: false },
      },
      {
        msgtype: 'link',
        link: {
          title: 'Order 981',
          text: 'It arrives tomorrow',
          messageUrl: 'https://shop.example.com/orders/981',
          picUrl: 'https://shop.example.com/981.png',
        },
      },
      {
        msgtype: 'actionCard',
        actionCard: {
          title: 'Order 981',
          text: '### Shipped',
          singleTitle: 'Open order',
          singleURL: 'https://shop.example.com/orders/981',
        },
      },
    ]);
  });

  it('refuses a link without a url before calling DingTalk', async () => {
    const outcome = await sender.send(job(account, { msgtype: 'link', title: 'x' }));
    expect(outcome).toMatchObject({ kind: 'permanent', code: 'dingtalk_invalid_part' });
    expect(robot.requests).toHaveLength(0);
  });

  it('sends unsigned when the robot has no secret', async () => {
    const plain = await startFakeRobot();
    try {
      expect(await sender.send(job({ name: 'plain', webhook: plain.url }))).toEqual({ kind: 'sent' });
      expect(plain.requests[0]).toMatchObject({
        timestamp: null,
        sign: null,
        accessToken: plain.accessToken,
      });
    } finally {
      await plain.close();
    }
  });

  it('reports a wrong secret as permanent errcode 310000, with no secret or token in the message', async () => {
    const outcome = await sender.send(job({ ...account, secret: 'SECwrong' }));
    expect(outcome).toEqual({
      kind: 'permanent',
      code: 'dingtalk_310000',
      message: 'errcode 310000: sign not match',
    });
    expect(JSON.stringify(outcome)).not.toContain(robot.accessToken);
  });

  it('is refused by the robot when its clock is more than an hour off', async () => {
    const now = Date.now();
    const spy = jest.spyOn(Date, 'now').mockReturnValue(now - 61 * 60_000);
    try {
      expect(await sender.send(job(account))).toEqual({
        kind: 'permanent',
        code: 'dingtalk_310000',
        message: 'errcode 310000: invalid timestamp',
      });
    } finally {
      spy.mockRestore();
    }
  });

  it('reports an unknown token as permanent', async () => {
    const webhook = robot.url.replace(robot.accessToken, 'not-a-token');
    expect(await sender.send(job({ ...account, webhook }))).toMatchObject({
      kind: 'permanent',
      code: 'dingtalk_400101',
    });
  });

  it('retries a too-fast answer after the ten-minute block, and busy without a wait', async () => {
    robot.answerNext(
      { body: { errcode: 130101, errmsg: 'send too fast' } },
      { body: { errcode: 410100, errmsg: '发送速度太快而限流' } },
      { body: { errcode: -1, errmsg: '系统繁忙' } },
    );
    expect(await sender.send(job(account))).toEqual({
      kind: 'retryable',
      code: 'dingtalk_130101',
      message: 'errcode 130101: send too fast',
      retryAfterMs: 600_000,
    });
    expect(await sender.send(job(account))).toMatchObject({
      kind: 'retryable',
      code: 'dingtalk_410100',
      retryAfterMs: 600_000,
    });
    expect(await sender.send(job(account))).toEqual({
      kind: 'retryable',
      code: 'dingtalk_-1',
      message: 'errcode -1: 系统繁忙',
    });
    expect(await sender.send(job(account))).toEqual({ kind: 'sent' });
  });

  it('retries HTTP 5xx, non-JSON answers and timeouts; other errcodes are permanent', async () => {
    robot.answerNext(
      { status: 502, body: '<html>Bad Gateway</html>' },
      { status: 200, body: '<html>maintenance</html>' },
      { body: { errcode: 0, errmsg: 'ok' }, delayMs: 1500 },
      { body: { errcode: 400102, errmsg: '机器人已停用' } },
    );
    expect(await sender.send(job(account))).toMatchObject({ kind: 'retryable', code: 'dingtalk_http_502' });
    expect(await sender.send(job(account))).toMatchObject({ kind: 'retryable', code: 'dingtalk_bad_answer' });
    expect(await sender.send(job(account))).toMatchObject({ kind: 'retryable', code: 'dingtalk_timeout' });
    expect(await sender.send(job(account))).toEqual({
      kind: 'permanent',
      code: 'dingtalk_400102',
      message: 'errcode 400102: 机器人已停用',
    });
  });

  it('retries when the robot cannot be reached', async () => {
    const url = robot.url;
    await robot.close();
    const outcome = await sender.send(job({ ...account, webhook: url }));
    expect(outcome).toMatchObject({ kind: 'retryable', code: 'dingtalk_network' });
    expect(JSON.stringify(outcome)).not.toContain(robot.accessToken);
    robot = await startFakeRobot({ secret: SECRET });
  });

  it('waits without calling DingTalk when the budget is spent', async () => {
    const spent: RobotBudget = {
      windows: [{ limit: 20, windowMs: 60_000 }],
      acquire: async () => ({ ok: false, retryAfterMs: 1234, reason: 'budget spent: 20 per minute' }),
      hold: async () => undefined,
    };
    const waiting = createDingTalkSender({ egress: localEgress(), budget: spent, log: silentLog });
    expect(await waiting.send(job(account))).toEqual({
      kind: 'deferred',
      retryAfterMs: 1234,
      reason: 'robot budget spent: 20 per minute',
    });
    expect(robot.requests).toHaveLength(0);
  });
});
