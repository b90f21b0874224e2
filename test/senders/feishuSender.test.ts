import { createHmac } from 'node:crypto';
import {
  feishuRobotConfigInputSchema,
  splitFeishuAccount,
  toFeishuRobotAccount,
} from '../../src/senders/feishu/feishuAccount';
import { createFeishuBudget } from '../../src/senders/feishu/feishuBudget';
import type { FeishuJob, FeishuRobotAccount } from '../../src/senders/feishu/feishuJob';
import { feishuPartSchema } from '../../src/senders/feishu/feishuPart';
import { createFeishuSender } from '../../src/senders/feishu/feishuSender';
import { feishuSignature } from '../../src/senders/feishu/sign';
import { toFeishuJob } from '../../src/senders/feishu/toFeishuJob';
import type { SendBudget } from '../../src/senders/sendBudget';
import { describeWith } from '../support/services';
import { createTestPostgres, type TestDatabase } from '../support/testDatabase';
import { startFakeFeishu, type FakeFeishu } from './support/fakeFeishu';
import { localEgress } from './support/localEgress';

const SECRET = 'fEiShUsEcReT0123456789';
const silentLog = { info: () => undefined, warn: () => undefined };
const unlimited: SendBudget = {
  windows: [{ limit: 100, windowMs: 60_000 }],
  acquire: async () => ({ ok: true, settle: async () => undefined }),
  hold: async () => undefined,
};

function job(account: FeishuRobotAccount, over: Partial<FeishuJob> = {}): FeishuJob {
  return {
    channel: 'feishu',
    deliveryId: 'dlv-1',
    messageId: 'order-981-shipped',
    attempt: 1,
    account,
    msgType: 'text',
    text: 'Order 981 shipped',
    atUserIds: ['ou_7d8a6e6df7621556ce0d21922b676706ccs'],
    atAll: false,
    ...over,
  };
}

describe('feishu signature', () => {
  it('is Base64 HMAC-SHA256 keyed by "timestamp\\nsecret" over an empty message', () => {
    const expected = createHmac('sha256', '1599360473\nsecret').update(Buffer.alloc(0)).digest('base64');
    expect(feishuSignature('secret', 1599360473)).toBe(expected);
    expect(feishuSignature('secret', 1599360474)).not.toBe(expected);
  });
});

describe('feishu robot sender', () => {
  let bot: FakeFeishu;
  let account: FeishuRobotAccount;
  const sender = createFeishuSender({
    egress: localEgress(),
    budget: unlimited,
    log: silentLog,
    timeoutMs: 1000,
  });

  beforeEach(async () => {
    bot = await startFakeFeishu({ secret: SECRET });
    account = { name: 'team-bot', webhook: bot.webhook, secret: SECRET };
  });
  afterEach(() => bot.close());

  it('signs the body with a timestamp in seconds and posts a text message with its mentions', async () => {
    const before = Math.floor(Date.now() / 1000);
    expect(await sender.send(job(account))).toEqual({ kind: 'sent' });
    const [req] = bot.requests;
    expect(req?.answer).toEqual({ code: 0, msg: 'success', data: {} });
    const body = req?.body as Record<string, unknown>;
    expect(Number(body.timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(body.timestamp)).toBeLessThan(before + 60);
    expect(body).toEqual({
      timestamp: body.timestamp,
      sign: feishuSignature(SECRET, Number(body.timestamp)),
      msg_type: 'text',
      content: { text: 'Order 981 shipped <at user_id="ou_7d8a6e6df7621556ce0d21922b676706ccs"></at>' },
    });
  });

  it('posts rich text (post) with a link line and an @ line, and @all when asked', async () => {
    const outcome = await sender.send(
      job(account, {
        msgType: 'post',
        title: 'Order 981',
        text: 'Shipped today\nArrives tomorrow',
        url: 'https://shop.example.com/orders/981',
        btnTitle: 'Open order',
        atAll: true,
      }),
    );
    expect(outcome).toEqual({ kind: 'sent' });
    const { timestamp, sign, ...rest } = bot.requests[0]?.body as Record<string, unknown>;
    expect(typeof timestamp).toBe('string');
    expect(typeof sign).toBe('string');
    expect(rest).toEqual({
      msg_type: 'post',
      content: {
        post: {
          zh_cn: {
            title: 'Order 981',
            content: [
              [{ tag: 'text', text: 'Shipped today' }],
              [{ tag: 'text', text: 'Arrives tomorrow' }],
              [{ tag: 'a', text: 'Open order', href: 'https://shop.example.com/orders/981' }],
              [
                { tag: 'at', user_id: 'ou_7d8a6e6df7621556ce0d21922b676706ccs' },
                { tag: 'at', user_id: 'all' },
              ],
            ],
          },
        },
      },
    });
  });

  it('posts an interactive card with a header, lark_md body with mentions and a button', async () => {
    expect(
      await sender.send(
        job(account, {
          msgType: 'interactive',
          title: 'Order 981',
          text: '**Shipped**',
          url: 'https://shop.example.com/orders/981',
        }),
      ),
    ).toEqual({ kind: 'sent' });
    const { timestamp: _t, sign: _s, ...rest } = bot.requests[0]?.body as Record<string, unknown>;
    expect(rest).toEqual({
      msg_type: 'interactive',
      card: {
        config: { wide_screen_mode: true },
        header: { title: { tag: 'plain_text', content: 'Order 981' } },
        elements: [
          {
            tag: 'div',
            text: {
              tag: 'lark_md',
              content: '**Shipped**\n<at id=ou_7d8a6e6df7621556ce0d21922b676706ccs></at>',
            },
          },
          {
            tag: 'action',
            actions: [
              {
                tag: 'button',
                text: { tag: 'plain_text', content: 'View details' },
                url: 'https://shop.example.com/orders/981',
                type: 'primary',
              },
            ],
          },
        ],
      },
    });
  });

  it('sends unsigned when the bot has no secret', async () => {
    const plain = await startFakeFeishu();
    try {
      expect(await sender.send(job({ name: 'plain', webhook: plain.webhook }))).toEqual({ kind: 'sent' });
      expect(plain.requests[0]?.body).not.toHaveProperty('sign');
    } finally {
      await plain.close();
    }
  });

  it('reports a wrong secret as permanent 19021, without the hook token in the message', async () => {
    const outcome = await sender.send(job({ ...account, secret: 'wrong' }));
    expect(outcome).toEqual({
      kind: 'permanent',
      code: 'feishu_19021',
      message: 'code 19021: sign match fail or timestamp is not within one hour from current time',
    });
    expect(JSON.stringify(outcome)).not.toContain(bot.hookToken);
  });

  it('is refused when its clock is more than an hour off', async () => {
    const skewed = createFeishuSender({
      egress: localEgress(),
      budget: unlimited,
      log: silentLog,
      now: () => Date.now() - 61 * 60_000,
    });
    expect(await skewed.send(job(account))).toMatchObject({ kind: 'permanent', code: 'feishu_19021' });
  });

  it('reports an unknown hook token as permanent', async () => {
    const webhook = bot.webhook.replace(bot.hookToken, 'not-a-token');
    expect(await sender.send(job({ ...account, webhook }))).toMatchObject({
      kind: 'permanent',
      code: 'feishu_19001',
    });
  });

  it('retries rate limiting after a minute, 5xx, non-JSON and timeouts; reads old StatusCode answers', async () => {
    bot.answerNext(
      { body: { code: 11232, msg: 'frequency limited psm[x]', data: {} } },
      { status: 503, body: '<html>busy</html>' },
      { body: '<html>maintenance</html>' },
      { body: { code: 0, msg: 'success' }, delayMs: 1500 },
      { body: { StatusCode: 0, StatusMessage: 'success' } },
      { body: { code: 19024, msg: 'Key Words Not Found' } },
    );
    expect(await sender.send(job(account))).toEqual({
      kind: 'retryable',
      code: 'feishu_11232',
      message: 'code 11232: frequency limited psm[x]',
      retryAfterMs: 60_000,
    });
    expect(await sender.send(job(account))).toMatchObject({ kind: 'retryable', code: 'feishu_http_503' });
    expect(await sender.send(job(account))).toMatchObject({ kind: 'retryable', code: 'feishu_bad_answer' });
    expect(await sender.send(job(account))).toMatchObject({ kind: 'retryable', code: 'feishu_timeout' });
    expect(await sender.send(job(account))).toEqual({ kind: 'sent' });
    expect(await sender.send(job(account))).toEqual({
      kind: 'permanent',
      code: 'feishu_19024',
      message: 'code 19024: Key Words Not Found',
    });
  });

  it('waits without calling Feishu when the budget is spent', async () => {
    const spent: SendBudget = {
      ...unlimited,
      acquire: async () => ({ ok: false, retryAfterMs: 321, reason: 'budget spent: 5 per second' }),
    };
    const waiting = createFeishuSender({ egress: localEgress(), budget: spent, log: silentLog });
    expect(await waiting.send(job(account))).toEqual({
      kind: 'deferred',
      retryAfterMs: 321,
      reason: 'robot budget spent: 5 per second',
    });
    expect(bot.requests).toHaveLength(0);
  });
});

describe('feishu part and account', () => {
  it('accepts the three message types and refuses others', () => {
    expect(feishuPartSchema.safeParse({ msgType: 'post', title: 'x', text: 'y' }).success).toBe(true);
    expect(feishuPartSchema.safeParse({ msgType: 'markdown', text: 'y' }).success).toBe(false);
  });

  it('keeps the hook token and secret out of the public config and joins them back for the sender', () => {
    const input = feishuRobotConfigInputSchema.parse({
      webhook: 'https://open.feishu.cn/open-apis/bot/v2/hook/abc-123',
      secret: 's3cret',
    });
    const { config, secrets } = splitFeishuAccount(input);
    expect(config).toEqual({ webhook: 'https://open.feishu.cn/open-apis/bot/v2/hook/' });
    expect(secrets).toEqual({ access_token: 'abc-123', secret: 's3cret' });
    expect(toFeishuRobotAccount('team', config, secrets)).toEqual({
      name: 'team',
      webhook: 'https://open.feishu.cn/open-apis/bot/v2/hook/abc-123',
      secret: 's3cret',
    });
    expect(
      feishuRobotConfigInputSchema.safeParse({ webhook: 'https://open.feishu.cn/other/abc' }).success,
    ).toBe(false);
    // A PUT without the token keeps the stored one; a create without one is refused.
    const kept = feishuRobotConfigInputSchema.parse({
      webhook: 'https://open.feishu.cn/open-apis/bot/v2/hook/',
    });
    expect(splitFeishuAccount(kept, secrets).secrets).toEqual(secrets);
    expect(() => splitFeishuAccount(kept)).toThrow('the webhook needs its hook token');
  });
});

describeWith(['postgres'], 'feishu robot budget on PostgreSQL', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestPostgres();
  }, 60_000);
  afterAll(() => t?.drop());

  it('delivers a burst from two instances, none lost, never over 5 in a second at the bot', async () => {
    const bot = await startFakeFeishu({ secret: SECRET });
    const senders = [0, 1].map(() =>
      createFeishuSender({ egress: localEgress(), budget: createFeishuBudget(t.db), log: silentLog }),
    );
    const account = { name: 'burst-bot', webhook: bot.webhook, secret: SECRET };
    let deferrals = 0;
    const deliver = async (n: number) => {
      for (;;) {
        const outcome = await senders[n % 2]!.send(job(account, { text: `message ${n}`, atUserIds: [] }));
        if (outcome.kind === 'sent') return;
        if (outcome.kind !== 'deferred') throw new Error(`message ${n}: ${JSON.stringify(outcome)}`);
        deferrals += 1;
        await new Promise((r) => setTimeout(r, outcome.retryAfterMs));
      }
    };
    try {
      await Promise.all(Array.from({ length: 12 }, (_, n) => deliver(n)));
      const texts = bot.accepted().map((b) => (b as { content: { text: string } }).content.text);
      expect(texts.sort()).toEqual(Array.from({ length: 12 }, (_, n) => `message ${n}`).sort());
      expect(bot.requests).toHaveLength(12);
      expect(deferrals).toBeGreaterThanOrEqual(7);
    } finally {
      await bot.close();
    }
  });

  it('holds the bot for a minute on every instance after Feishu says it is rate limited', async () => {
    const bot = await startFakeFeishu();
    const [a, b] = [0, 1].map(() =>
      createFeishuSender({ egress: localEgress(), budget: createFeishuBudget(t.db), log: silentLog }),
    );
    const account = { name: 'limited-bot', webhook: bot.webhook };
    try {
      bot.answerNext({ body: { code: 11232, msg: 'frequency limited', data: {} } });
      expect(await a!.send(job(account))).toMatchObject({ kind: 'retryable', code: 'feishu_11232' });
      const held = await b!.send(job(account));
      expect(held).toMatchObject({
        kind: 'deferred',
        reason: 'robot rate limited by Feishu: code 11232: frequency limited',
      });
      if (held.kind === 'deferred') expect(held.retryAfterMs).toBeGreaterThan(50_000);
      expect(bot.requests).toHaveLength(1);
    } finally {
      await bot.close();
    }
  });
});

describe('feishu job from a rendered part', () => {
  it('@-mentions each recipient with a Feishu user id once, and passes @all', () => {
    const account = { name: 'team', webhook: 'https://open.feishu.cn/open-apis/bot/v2/hook/t' };
    const j = toFeishuJob(
      { deliveryId: 'd', messageId: 'm', attempt: 1 },
      { msgType: 'text', text: 'hi', atAll: true },
      account,
      [{ feishuUserId: 'ou_1' }, {}, { feishuUserId: 'ou_1' }, { feishuUserId: 'ou_2' }],
    );
    expect(j).toEqual({
      deliveryId: 'd',
      messageId: 'm',
      attempt: 1,
      channel: 'feishu',
      account,
      msgType: 'text',
      text: 'hi',
      atUserIds: ['ou_1', 'ou_2'],
      atAll: true,
    });
  });
});
