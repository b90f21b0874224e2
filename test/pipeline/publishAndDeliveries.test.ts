import { createHeraldPublisher, type HeraldPublisher } from '../../src/sdk/publisher';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import { createTestDeployment, type TestDeployment, type TestHerald } from '../support/testHerald';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { heraldApi, orderShipped, type DeliveryJson, type HeraldApi } from '../support/heraldApi';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const summary = (d: DeliveryJson & { attemptLog?: unknown[] }) =>
  `${d.channel}#${d.recipientIndex}:${d.status}:${d.attempts}`;

describeWith(
  ['postgres', 'rabbitmq'],
  'pipeline on RabbitMQ: envelopes become deliveries and attempts',
  () => {
    let dep: TestDeployment;
    let h: TestHerald;
    let api: HeraldApi;
    let sink: SmtpSink;
    let sdk: HeraldPublisher;
    /** Between the first batch (sdk-1, http-1) and the second (http-2), for the time-range filters. */
    let between: Date;

    beforeAll(async () => {
      dep = createTestDeployment();
      h = await dep.start();
      api = heraldApi(h.baseUrl);
      sink = await startSmtpSink();
      await api.createSmtpAccount('sink', sink.port);
      await api.createTemplate(orderShipped());
      await api.createTemplate({
        code: 'welcome',
        name: 'Welcome',
        variables: { product: 'string' },
        channels: { im: { title: 'Welcome to {{ product }}', body: 'Hello {{ name }}' } },
      });
      sdk = await createHeraldPublisher({ url: TEST_AMQP_URL, prefix: dep.prefix });
    });
    afterAll(async () => {
      await sdk?.close();
      // Herald first: the sink's close waits for the mail pool's open connections.
      await dep?.destroy();
      await sink?.close();
    });

    it('an envelope published with the SDK ends as sent and skipped deliveries, each with its log', async () => {
      await expect(
        sdk.publish({
          id: 'sdk-1',
          template: 'order_shipped',
          to: [
            { userId: 'u-1', email: 'li@example.com', name: 'Li' },
            { userId: 'u-2', name: 'Wang' },
          ],
          data: { orderNo: '981' },
          meta: { source: 'orders', traceId: 'trace-981' },
        }),
      ).resolves.toEqual({ id: 'sdk-1' });

      const m = await api.finished('sdk-1');
      expect(m).toMatchObject({
        status: 'completed',
        templateCode: 'order_shipped',
        templateVersion: 1,
        reason: null,
        source: 'orders',
        traceId: 'trace-981',
        recipientCount: 2,
      });
      const byKey = new Map(m.deliveries.map((d) => [`${d.channel}#${d.recipientIndex}`, d]));
      expect(m.deliveries.map(summary).sort()).toEqual([
        'im#0:sent:1',
        'im#1:sent:1',
        'mail#0:sent:1',
        'mail#1:skipped:0',
      ]);
      const skipped = byKey.get('mail#1');
      expect(skipped?.reason).toBe('recipient has no email address');
      expect(skipped?.attemptLog).toEqual([]);
      const mail = byKey.get('mail#0');
      expect(mail?.attemptLog).toHaveLength(1);
      expect(mail?.attemptLog[0]).toMatchObject({ attempt: 1, outcome: 'sent', errorCode: null });
      // The sink's queue id, as the SMTP server answered it.
      expect(mail?.attemptLog[0]?.providerId).toMatch(/^SINK\d{6}$/);
      expect(byKey.get('im#1')?.attemptLog.map((a) => a.outcome)).toEqual(['sent']);

      expect(sink.messages).toHaveLength(1);
      expect(sink.messages[0]?.envelope.to).toEqual(['li@example.com']);
      expect(sink.messages[0]?.subject).toBe('Order 981 shipped');
      expect(await api.inboxCount('u-1')).toBe(1);
      expect(await api.inboxCount('u-2')).toBe(1);
    });

    it('the SDK refuses an envelope that fails the schema before it reaches the broker', async () => {
      await expect(
        sdk.publish({ id: 'sdk-bad', template: 'order_shipped', to: [{ name: 'nobody' }] }),
      ).rejects.toMatchObject({
        name: 'PublishError',
        code: 'invalid_envelope',
        message: expect.stringContaining('to.0: a recipient needs at least one address'),
      });
      expect(await api.message('sdk-bad')).toBeUndefined();
      expect((await api.deadLetters()).items).toEqual([]);
    });

    it('an envelope POSTed to /v1/messages is dispatched the same way', async () => {
      const accepted = await api.call('POST', '/v1/messages', {
        id: 'http-1',
        template: 'welcome',
        to: [{ userId: 'u-3', email: 'zhao@example.com', name: 'Zhao' }],
        data: { product: 'Herald' },
      });
      expect(accepted).toEqual({ status: 202, body: { id: 'http-1' } });
      const m = await api.finished('http-1');
      expect(m.status).toBe('completed');
      expect(m.deliveries.map(summary)).toEqual(['im#0:sent:1']);
      expect(m.deliveries[0]?.attemptLog.map((a) => [a.attempt, a.outcome])).toEqual([[1, 'sent']]);

      const invalid = await api.call<{ code: string }>('POST', '/v1/messages', {
        id: 'http-bad',
        template: 'welcome',
        to: [],
      });
      expect(invalid.status).toBe(400);
      expect(await api.message('http-bad')).toBeUndefined();
    });

    it('GET /v1/deliveries filters by status, channel, template, userId, email and time range', async () => {
      await sleep(50);
      between = new Date();
      await sleep(50);
      await api.expectStatus(202, 'POST', '/v1/messages', {
        id: 'http-2',
        template: 'order_shipped',
        to: [{ userId: 'u-4', email: 'sun@example.com' }],
        data: { orderNo: '982' },
        channels: ['mail'],
      });
      expect((await api.finished('http-2')).deliveries.map(summary)).toEqual(['mail#0:sent:1']);

      const ids = async (query: Record<string, string>) =>
        (await api.deliveries(query)).items
          .map((d) => `${d.messageId}/${d.channel}#${d.recipientIndex}`)
          .sort();

      expect(await ids({})).toHaveLength(6);
      expect(await ids({ status: 'skipped' })).toEqual(['sdk-1/mail#1']);
      expect(await ids({ status: 'sent', channel: 'mail' })).toEqual(['http-2/mail#0', 'sdk-1/mail#0']);
      expect(await ids({ channel: 'im' })).toEqual(['http-1/im#0', 'sdk-1/im#0', 'sdk-1/im#1']);
      expect(await ids({ template: 'welcome' })).toEqual(['http-1/im#0']);
      expect(await ids({ template: 'order_shipped', channel: 'mail' })).toEqual([
        'http-2/mail#0',
        'sdk-1/mail#0',
        'sdk-1/mail#1',
      ]);
      expect(await ids({ userId: 'u-2' })).toEqual(['sdk-1/im#1', 'sdk-1/mail#1']);
      expect(await ids({ email: 'li@example.com' })).toEqual(['sdk-1/im#0', 'sdk-1/mail#0']);
      expect(await ids({ messageId: 'http-1' })).toEqual(['http-1/im#0']);
      expect(await ids({ from: between.toISOString() })).toEqual(['http-2/mail#0']);
      expect(await ids({ to: between.toISOString() })).toHaveLength(5);
      expect(await ids({ from: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
      expect(await ids({ status: 'failed' })).toEqual([]);

      const badStatus = await api.call<{ code: string }>('GET', '/v1/deliveries?status=lost');
      expect(badStatus.status).toBe(400);
    });

    it('pages through every delivery with the cursor, newest first, without gaps or repeats', async () => {
      const seen: DeliveryJson[] = [];
      const pageSizes: number[] = [];
      let cursor: string | null = null;
      do {
        const query: Record<string, string> = { limit: '4' };
        if (cursor) query.cursor = cursor;
        const page = await api.deliveries(query);
        pageSizes.push(page.items.length);
        seen.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      expect(pageSizes).toEqual([4, 2]);
      expect(new Set(seen.map((d) => d.id)).size).toBe(6);
      const times = seen.map((d) => Date.parse(d.createdAt));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      // The newest delivery (http-2's) comes first.
      expect(seen[0]?.messageId).toBe('http-2');

      const bad = await api.call<{ code: string }>('GET', '/v1/deliveries?cursor=not-a-cursor');
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('invalid_cursor');
    });
  },
);
