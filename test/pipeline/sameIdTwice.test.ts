import { createHeraldPublisher, type HeraldPublisher } from '../../src/sdk/publisher';
import type { EnvelopeInput } from '../../src/contract/envelope';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { heraldApi, orderShipped, type HeraldApi } from '../support/heraldApi';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWith(['postgres', 'rabbitmq'], 'pipeline on RabbitMQ: the same id published twice', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let api: HeraldApi;
  let sink: SmtpSink;
  let sdk: HeraldPublisher;

  const envelope: EnvelopeInput = {
    id: 'order-981-shipped',
    template: 'order_shipped',
    to: [
      { userId: 'u-1', email: 'li@example.com', name: 'Li' },
      { userId: 'u-2', email: 'wang@example.com', name: 'Wang' },
    ],
    data: { orderNo: '981' },
  };

  beforeAll(async () => {
    dep = createTestDeployment();
    h = await dep.start();
    api = heraldApi(h.baseUrl);
    sink = await startSmtpSink();
    await api.createSmtpAccount('sink', sink.port);
    await api.createTemplate(orderShipped());
    sdk = await createHeraldPublisher({ url: TEST_AMQP_URL, prefix: dep.prefix });
  });
  afterAll(async () => {
    await sdk?.close();
    await dep?.destroy();
    await sink?.close();
  });

  async function attemptRows(): Promise<number> {
    const { rows } = await h.runtime.ctx.db.sql.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM "DeliveryAttempt" a JOIN "Delivery" d ON d.id = a."deliveryId" WHERE d."messageId" = $1`,
      [envelope.id],
    );
    return Number(rows[0]?.n);
  }

  it('sends once when two copies arrive together, and nothing more when a third arrives later', async () => {
    // Both copies land in one prefetch window, so two dispatches of the same id run side by side.
    await Promise.all([sdk.publish(envelope), sdk.publish(envelope)]);
    const m = await api.finished(envelope.id);
    expect(m.status).toBe('completed');
    expect(
      m.deliveries.map((d) => `${d.channel}#${d.recipientIndex}:${d.status}:${d.attempts}`).sort(),
    ).toEqual(['im#0:sent:1', 'im#1:sent:1', 'mail#0:sent:1', 'mail#1:sent:1']);
    await sink.waitForMessages(2);

    // The third copy, published after completion, is taken (the row is touched) and sends nothing.
    const before = m.updatedAt;
    await api.expectStatus(202, 'POST', '/v1/messages', envelope);
    await eventually(
      async () => ((await api.message(envelope.id))?.updatedAt ?? before) > before,
      10_000,
      'the third copy to be consumed',
    );
    // Room for a wrongly repeated send to show up before counting.
    await sleep(500);

    expect(sink.messages.map((mail) => mail.envelope.to).sort()).toEqual([
      ['li@example.com'],
      ['wang@example.com'],
    ]);
    expect(await api.inboxCount('u-1')).toBe(1);
    expect(await api.inboxCount('u-2')).toBe(1);
    expect(await attemptRows()).toBe(4);
    const after = await api.message(envelope.id);
    expect(after?.status).toBe('completed');
    expect(after?.deliveries.map((d) => d.attemptLog.length)).toEqual([1, 1, 1, 1]);
    const { rows } = await h.runtime.ctx.db.sql.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM "Message" WHERE id = $1`,
      [envelope.id],
    );
    expect(rows[0]?.n).toBe('1');
  });
});
