import { createHeraldPublisher, type HeraldPublisher } from '../../src/sdk/publisher';
import { CancelError } from '../../src/sdk/cancel';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { ADMIN_TOKEN } from '../support/testApp';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { describeWith, TEST_AMQP_URL } from '../support/services';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

interface MessageBody {
  status: string;
  templateCode: string | null;
  reason: string | null;
  deliveries: Array<{
    channel: string;
    status: string;
    attemptLog: Array<{ outcome: string; errorText: string | null }>;
  }>;
}

describeWith(['postgres', 'rabbitmq'], 'cancellation', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let sink: SmtpSink;
  let sdk: HeraldPublisher;

  const getMessage = async (id: string) =>
    (await (await fetch(`${h.baseUrl}/v1/messages/${id}`, { headers: auth })).json()) as MessageBody;
  const cancel = (id: string) =>
    fetch(`${h.baseUrl}/v1/messages/${id}/cancel`, { method: 'POST', headers: auth, body: '{}' });
  const envelope = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    template: 'notice',
    to: [{ userId: `user-${id}`, email: `${id}@example.com` }],
    data: { n: id },
    ...extra,
  });

  beforeAll(async () => {
    sink = await startSmtpSink();
    // A retry far enough away that the test cancels it while it waits.
    dep = createTestDeployment({ HERALD_RETRY_DELAYS: '60s' });
    h = await dep.start();
    sdk = await createHeraldPublisher({
      url: TEST_AMQP_URL,
      prefix: dep.prefix,
      api: { baseUrl: h.baseUrl, token: ADMIN_TOKEN },
    });
    const account = await fetch(`${h.baseUrl}/v1/channel-accounts`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        name: 'sink',
        type: 'smtp',
        config: { host: sink.host, port: sink.port, secure: false, from: 'h@example.com' },
      }),
    });
    expect(account.status).toBe(201);
    const tpl = await fetch(`${h.baseUrl}/v1/templates`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        code: 'notice',
        name: 'Notice',
        variables: { n: 'string' },
        channels: {
          mail: { account: 'sink', subject: 'Notice {{ n }}', html: '<p>{{ n }}</p>' },
          im: { title: 'Notice {{ n }}', body: '{{ n }}' },
        },
      }),
    });
    expect(tpl.status).toBe(201);
  });
  afterAll(async () => {
    await sdk?.close();
    await dep?.destroy();
    await sink?.close();
  });

  it('cancels a scheduled message before its time through the SDK: nothing is sent, and a later envelope stays cancelled', async () => {
    const sendAt = Date.now() + 3000;
    await sdk.publish(envelope('sched-1', { sendAt: new Date(sendAt).toISOString() }));
    await eventually(async () => (await getMessage('sched-1')).status === 'scheduled');
    const outcome = await sdk.cancel('sched-1', 'orders-service');
    expect(outcome).toMatchObject({
      id: 'sched-1',
      status: 'cancelled',
      scheduleCancelled: true,
      cancelled: [],
      alreadyDone: [],
    });
    // The same id published again, now due: it stays cancelled.
    await sdk.publish(envelope('sched-1'));
    await new Promise((r) => setTimeout(r, Math.max(0, sendAt - Date.now()) + 3000));
    const m = await getMessage('sched-1');
    expect(m.status).toBe('cancelled');
    expect(m.reason).toMatch(/^cancelled by orders-service at /);
    expect(m.deliveries).toEqual([]);
    expect(sink.messages.filter((x) => x.subject === 'Notice sched-1')).toEqual([]);
    const inbox = await fetch(`${h.baseUrl}/v1/users/user-sched-1/inbox`, { headers: auth });
    expect(((await inbox.json()) as { items: unknown[] }).items).toEqual([]);
    await expect(sdk.cancel('sched-1')).rejects.toMatchObject({ code: 'nothing_pending' });
  });

  it('answers 409 once everything has gone out', async () => {
    await sdk.publish(envelope('sent-1'));
    await eventually(async () => (await getMessage('sent-1')).status === 'completed');
    const res = await cancel('sent-1');
    expect(res.status).toBe(409);
    expect(((await res.json()) as { code: string }).code).toBe('nothing_pending');
    await expect(sdk.cancel('sent-1')).rejects.toBeInstanceOf(CancelError);
  });

  it('keeps an id cancelled before its envelope arrived: the envelope, consumed later, sends nothing', async () => {
    // The envelope waits in RabbitMQ (no consumer of this id yet) when the cancel comes.
    const outcome = await sdk.cancel('not-arrived', 'orders-service');
    expect(outcome).toMatchObject({ status: 'cancelled', notArrived: true, scheduleCancelled: false });
    await sdk.publish(envelope('not-arrived'));
    // Once consumed, the tombstone knows the template of what it cancelled.
    const m = await eventually(async () => {
      const got = await getMessage('not-arrived');
      return got.templateCode === 'notice' ? got : undefined;
    });
    expect(m.status).toBe('cancelled');
    expect(m.reason).toMatch(/^cancelled by orders-service at .*, before it arrived$/);
    expect(m.deliveries).toEqual([]);
    expect(sink.messages.filter((x) => x.subject === 'Notice not-arrived')).toEqual([]);
    expect((await cancel('not-arrived')).status).toBe(409);
  });

  it('cancels a retrying delivery with an attempt row and lists what had gone out', async () => {
    sink.setBehaviour({
      rcpt: (a) => (a.startsWith('retry-1@') ? { code: 451, message: '4.3.0 try later' } : undefined),
    });
    await sdk.publish(envelope('retry-1'));
    await eventually(async () => {
      const m = await getMessage('retry-1');
      return (
        m.deliveries.some((d) => d.channel === 'mail' && d.status === 'retrying') &&
        m.deliveries.some((d) => d.status === 'sent')
      );
    });
    const res = await cancel('retry-1');
    expect(res.status).toBe(200);
    const outcome = (await res.json()) as {
      status: string;
      cancelled: Array<{ channel: string; previousStatus: string }>;
      alreadyDone: Array<{ channel: string; status: string }>;
    };
    expect(outcome.cancelled).toEqual([
      expect.objectContaining({ channel: 'mail', previousStatus: 'retrying' }),
    ]);
    expect(outcome.alreadyDone).toEqual([expect.objectContaining({ channel: 'im', status: 'sent' })]);
    expect(outcome.status).toBe('completed');
    const m = await getMessage('retry-1');
    const mail = m.deliveries.find((d) => d.channel === 'mail');
    expect(mail?.status).toBe('cancelled');
    expect(mail?.attemptLog.map((a) => a.outcome)).toEqual(['retryable', 'cancelled']);
    expect(mail?.attemptLog[1]?.errorText).toMatch(/^cancelled by admin \(request .+\) at \d{4}-/);
  });
});
