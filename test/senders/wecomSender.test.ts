import type { SendBudget } from '../../src/senders/sendBudget';
import {
  splitWecomAccount,
  toWecomRobotAccount,
  wecomRobotConfigInputSchema,
} from '../../src/senders/wecom/wecomAccount';
import { createWecomBudget } from '../../src/senders/wecom/wecomBudget';
import type { WecomJob, WecomRobotAccount } from '../../src/senders/wecom/wecomJob';
import { wecomLengthIssues } from '../../src/senders/wecom/wecomLimits';
import { createWecomSender } from '../../src/senders/wecom/wecomSender';
import { toWecomJob } from '../../src/senders/wecom/toWecomJob';
import { describeWith } from '../support/services';
import { createTestPostgres, type TestDatabase } from '../support/testDatabase';
import { startFakeWecom, type FakeWecom } from './support/fakeWecom';
import { localEgress } from './support/localEgress';

const silentLog = { info: () => undefined, warn: () => undefined };
const unlimited: SendBudget = {
  windows: [{ limit: 20, windowMs: 60_000 }],
  acquire: async () => ({ ok: true, settle: async () => undefined }),
  hold: async () => undefined,
};

function job(account: WecomRobotAccount, over: Partial<WecomJob> = {}): WecomJob {
  return {
    channel: 'wecom',
    deliveryId: 'dlv-1',
    messageId: 'order-981-shipped',
    attempt: 1,
    account,
    msgtype: 'text',
    text: 'Order 981 shipped',
    atUserIds: ['wangqing'],
    atMobiles: ['13800001111'],
    atAll: false,
    ...over,
  };
}

describe('wecom robot sender', () => {
  let robot: FakeWecom;
  let account: WecomRobotAccount;
  const sender = createWecomSender({
    egress: localEgress(),
    budget: unlimited,
    log: silentLog,
    timeoutMs: 1000,
  });

  beforeEach(async () => {
    robot = await startFakeWecom();
    account = { name: 'ops-wecom', webhook: robot.webhook };
  });
  afterEach(() => robot.close());

  it('posts a text message with mentions by user id and mobile', async () => {
    expect(await sender.send(job(account, { atAll: true }))).toEqual({ kind: 'sent' });
    expect(robot.requests[0]?.body).toEqual({
      msgtype: 'text',
      text: {
        content: 'Order 981 shipped',
        mentioned_list: ['wangqing', '@all'],
        mentioned_mobile_list: ['13800001111'],
      },
    });
  });

  it('posts markdown with <@userid> mentions and news articles', async () => {
    await sender.send(job(account, { msgtype: 'markdown', text: '### Order 981\n> shipped' }));
    await sender.send(
      job(account, {
        msgtype: 'news',
        title: 'Order 981 shipped',
        text: 'Arrives tomorrow',
        url: 'https://shop.example.com/orders/981',
        picUrl: 'https://shop.example.com/981.png',
      }),
    );
    expect(robot.requests.map((r) => r.body)).toEqual([
      { msgtype: 'markdown', markdown: { content: '### Order 981\n> shipped\n<@wangqing>' } },
      {
        msgtype: 'news',
        news: {
          articles: [
            {
              title: 'Order 981 shipped',
              description: 'Arrives tomorrow',
              url: 'https://shop.example.com/orders/981',
              picurl: 'https://shop.example.com/981.png',
            },
          ],
        },
      },
    ]);
    expect(robot.accepted()).toHaveLength(2);
  });

  it('refuses a rendered text over 2048 bytes and a news without url before calling WeCom', async () => {
    const long = await sender.send(job(account, { text: '好'.repeat(683) }));
    expect(long).toEqual({
      kind: 'permanent',
      code: 'wecom_too_long',
      message: 'a WeCom text content may have at most 2048 bytes, this one has 2049',
    });
    expect(await sender.send(job(account, { msgtype: 'news', title: 'x' }))).toMatchObject({
      kind: 'permanent',
      code: 'wecom_invalid_part',
    });
    expect(robot.requests).toHaveLength(0);
  });

  it('reports a wrong key as permanent 93000, with the key masked', async () => {
    const webhook = robot.webhook.replace(robot.key, 'not-the-key');
    const outcome = await sender.send(job({ ...account, webhook }));
    expect(outcome).toMatchObject({ kind: 'permanent', code: 'wecom_93000' });
    expect(JSON.stringify(outcome)).not.toContain('not-the-key');
  });

  it('retries 45009 after a minute, -1 and 5xx at once; other errcodes are permanent', async () => {
    robot.answerNext(
      { body: { errcode: 45009, errmsg: 'api freq out of limit' } },
      { body: { errcode: -1, errmsg: 'system busy' } },
      { status: 502, body: 'bad gateway' },
      { body: { errcode: 40008, errmsg: 'invalid message type' } },
    );
    expect(await sender.send(job(account))).toEqual({
      kind: 'retryable',
      code: 'wecom_45009',
      message: 'errcode 45009: api freq out of limit',
      retryAfterMs: 60_000,
    });
    expect(await sender.send(job(account))).toEqual({
      kind: 'retryable',
      code: 'wecom_-1',
      message: 'errcode -1: system busy',
    });
    expect(await sender.send(job(account))).toMatchObject({ kind: 'retryable', code: 'wecom_http_502' });
    expect(await sender.send(job(account))).toMatchObject({ kind: 'permanent', code: 'wecom_40008' });
  });

  it('retries when the robot cannot be reached, with the key masked', async () => {
    const url = robot.webhook;
    await robot.close();
    const outcome = await sender.send(job({ ...account, webhook: url }));
    expect(outcome).toMatchObject({ kind: 'retryable', code: 'wecom_network' });
    expect(JSON.stringify(outcome)).not.toContain(robot.key);
    robot = await startFakeWecom();
  });
});

describe('wecom part limits and account', () => {
  it('names each field over its byte limit, counting UTF-8 bytes', () => {
    expect(wecomLengthIssues({ msgtype: 'markdown', text: 'a'.repeat(4096) })).toEqual([]);
    expect(wecomLengthIssues({ msgtype: 'markdown', text: 'a'.repeat(4097) })).toEqual([
      {
        field: 'text',
        bytes: 4097,
        limit: 4096,
        message: 'a WeCom markdown content may have at most 4096 bytes, this one has 4097',
      },
    ]);
    expect(wecomLengthIssues({ msgtype: 'news', title: '标'.repeat(43), text: 'd'.repeat(513) })).toEqual([
      expect.objectContaining({ field: 'title', bytes: 129, limit: 128 }),
      expect.objectContaining({ field: 'text', bytes: 513, limit: 512 }),
    ]);
  });

  it('keeps the key out of the public config and joins it back for the sender', () => {
    const input = wecomRobotConfigInputSchema.parse({
      webhook: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx',
    });
    const { config, secrets } = splitWecomAccount(input);
    expect(config).toEqual({ webhook: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send' });
    expect(secrets).toEqual({ key: '693a91f6-7xxx' });
    expect(toWecomRobotAccount('ops', config, secrets).webhook).toBe(
      'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx',
    );
    expect(splitWecomAccount({ webhook: config.webhook }, secrets).secrets).toEqual(secrets);
  });
});

describeWith(['postgres'], 'wecom robot budget on PostgreSQL', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestPostgres();
  }, 60_000);
  afterAll(() => t?.drop());

  it('lets 20 of 25 through in a minute from two instances, the robot never answering 45009', async () => {
    const robot = await startFakeWecom();
    const senders = [0, 1].map(() =>
      createWecomSender({ egress: localEgress(), budget: createWecomBudget(t.db), log: silentLog }),
    );
    const account = { name: 'burst-wecom', webhook: robot.webhook };
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 25 }, (_, n) => senders[n % 2]!.send(job(account, { text: `message ${n}` }))),
      );
      expect(outcomes.filter((o) => o.kind === 'sent')).toHaveLength(20);
      const deferred = outcomes.filter((o) => o.kind === 'deferred');
      expect(deferred).toHaveLength(5);
      expect(deferred[0]).toMatchObject({ reason: 'robot budget spent: 20 per minute' });
      expect(robot.requests).toHaveLength(20);
      expect(robot.accepted()).toHaveLength(20);
    } finally {
      await robot.close();
    }
  });

  it('holds the robot on every instance after WeCom answers 45009', async () => {
    const robot = await startFakeWecom();
    const [a, b] = [0, 1].map(() =>
      createWecomSender({ egress: localEgress(), budget: createWecomBudget(t.db), log: silentLog }),
    );
    const account = { name: 'limited-wecom', webhook: robot.webhook };
    try {
      robot.answerNext({ body: { errcode: 45009, errmsg: 'api freq out of limit' } });
      expect(await a!.send(job(account))).toMatchObject({ kind: 'retryable', code: 'wecom_45009' });
      expect(await b!.send(job(account))).toMatchObject({
        kind: 'deferred',
        reason: 'robot rate limited by WeCom: errcode 45009: api freq out of limit',
      });
      expect(robot.requests).toHaveLength(1);
    } finally {
      await robot.close();
    }
  });
});

describe('wecom job from a rendered part', () => {
  it('@-mentions by user id, and by mobile only those without one', () => {
    const j = toWecomJob(
      { deliveryId: 'd', messageId: 'm', attempt: 1 },
      { msgtype: 'text', text: 'hi' },
      { name: 'ops', webhook: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k' },
      [{ wecomUserId: 'wangqing', mobile: '13800001111' }, { mobile: '13900002222' }, {}],
    );
    expect(j).toMatchObject({
      channel: 'wecom',
      atUserIds: ['wangqing'],
      atMobiles: ['13900002222'],
      atAll: false,
    });
  });
});
