import { ADMIN_TOKEN } from '../support/testApp';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { describeWith } from '../support/services';

describeWith(['postgres', 'rabbitmq'], 'pipeline on RabbitMQ: smoke', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

  beforeAll(async () => {
    dep = createTestDeployment();
    h = await dep.start();
  });
  afterAll(() => dep.destroy());

  it('publishes over HTTP and ends with logged deliveries', async () => {
    const tpl = await fetch(`${h.baseUrl}/v1/templates`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        code: 'order_shipped',
        name: 'Order shipped',
        variables: { orderNo: 'string' },
        channels: {
          mail: { subject: 'Order {{ orderNo }} shipped', html: '<p>Hello {{ name }}</p>' },
          im: { title: 'Order {{ orderNo }}', body: 'shipped' },
        },
      }),
    });
    expect(tpl.status).toBe(201);
    const res = await fetch(`${h.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        id: 'm-1',
        template: 'order_shipped',
        to: [{ userId: 'u-1', email: 'li@example.com', name: 'Li' }],
        data: { orderNo: '981' },
      }),
    });
    expect(res.status).toBe(202);
    const message = await eventually(async () => {
      const r = await fetch(`${h.baseUrl}/v1/messages/m-1`, { headers: auth });
      const body = (await r.json()) as {
        status: string;
        deliveries: Array<{ channel: string; status: string; attemptLog: unknown[] }>;
      };
      return body.status === 'completed' ? body : undefined;
    });
    expect(message.deliveries.map((d) => [d.channel, d.status, d.attemptLog.length])).toEqual([
      ['mail', 'sent', 1],
      ['im', 'sent', 1],
    ]);
  });

  it('counts the envelope, its deliveries and their attempts in /metrics', async () => {
    const res = await fetch(`${h.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const value = (series: string) =>
      Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('herald_envelopes_total{outcome="completed"}')).toBe(1);
    expect(value('herald_deliveries_total{channel="mail",status="sent"}')).toBe(1);
    expect(value('herald_deliveries_total{channel="im",status="sent"}')).toBe(1);
    expect(value('herald_send_attempt_seconds_count{channel="mail",outcome="sent"}')).toBe(1);
    expect(value(`herald_queue_messages{queue="${dep.prefix}herald.dispatch"}`)).toBe(0);
    expect(text).toMatch(/^herald_process_resident_memory_bytes \d+/m);
  });
});
