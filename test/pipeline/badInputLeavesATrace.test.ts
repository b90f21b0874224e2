import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { heraldApi, orderShipped, type DeadLetterJson, type HeraldApi } from '../support/heraldApi';

interface ProblemJson {
  code: string;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
}

describeWith(['postgres', 'rabbitmq'], 'bad input is refused early or leaves a row (RabbitMQ)', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let api: HeraldApi;
  let conn: ChannelModel;
  let ch: ConfirmChannel;

  const publishRaw = async (routingKey: string, bytes: Buffer, messageId?: string) => {
    ch.publish(`${dep.prefix}herald`, routingKey, bytes, {
      persistent: true,
      contentType: 'application/json',
      ...(messageId ? { messageId } : {}),
    });
    await ch.waitForConfirms();
  };
  const deadLetterOf = (messageId: string) =>
    eventually(
      async () => (await api.deadLetters({ messageId })).items[0],
      15_000,
      `a dead letter for ${messageId}`,
    );

  beforeAll(async () => {
    dep = createTestDeployment();
    h = await dep.start();
    api = heraldApi(h.baseUrl);
    await api.createTemplate(orderShipped());
    conn = await amqplib.connect(TEST_AMQP_URL);
    ch = await conn.createConfirmChannel();
  });
  afterAll(async () => {
    await conn?.close();
    await dep?.destroy();
  });

  it.each([
    ['GET', '/v1/messages/%00x', undefined, 'params.id'],
    ['GET', '/v1/deliveries?email=%00', undefined, 'querystring.email'],
    ['GET', '/v1/users/a%00b/inbox', undefined, 'params.userId'],
    ['POST', '/v1/templates', { ...orderShipped(), code: 'nul_name', name: 'a\u0000b' }, 'body.name'],
    [
      'POST',
      '/v1/messages',
      { id: 'x\u0000y', template: 'order_shipped', to: [{ userId: 'u-1' }], data: { orderNo: '1' } },
      'body.id',
    ],
    [
      'POST',
      '/v1/messages',
      { id: 'nul-in-data', template: 'order_shipped', to: [{ userId: 'u-1' }], data: { 'a\u0000': '1' } },
      'body.data.a\u0000',
    ],
  ])('%s %s with a NUL answers 400 naming %s', async (method, path, body, field) => {
    const r = await api.call<ProblemJson>(method, path, body);
    expect({ status: r.status, code: r.body.code, paths: r.body.errors?.map((e) => e.path) }).toEqual({
      status: 400,
      code: 'invalid_request',
      paths: [field],
    });
    expect(r.body.detail).toContain('NUL');
  });

  it('dead-letters an envelope with a NUL in its id or data, naming the field, and the consumer goes on', async () => {
    const nulId = Buffer.from(
      JSON.stringify({ id: 'bad\u0000id', template: 'order_shipped', to: [{ userId: 'u-1' }], data: {} }),
    );
    await publishRaw('notify.order_shipped', nulId, 'bad\u0000id');
    const nulData = Buffer.from(
      JSON.stringify({
        id: 'nul-data-1',
        template: 'order_shipped',
        to: [{ userId: 'u-1' }],
        data: { orderNo: 'a\u0000' },
      }),
    );
    await publishRaw('notify.order_shipped', nulData, 'nul-data-1');

    const byData = await deadLetterOf('nul-data-1');
    expect(byData).toMatchObject({ code: 'invalid_envelope' });
    expect(byData.reason).toMatch(/^data\.orderNo: must not contain a NUL/);
    const m = await api.message('nul-data-1');
    expect(m).toMatchObject({ status: 'rejected' });

    // The id itself cannot be stored; the dead letter keeps it spelled out.
    const byId = await deadLetterOf('bad\\u0000id');
    expect(byId.code).toBe('invalid_envelope');
    expect(byId.reason).toMatch(/^id: must not contain a NUL/);
    expect(Buffer.from(byId.payload, byId.payloadEncoding).equals(nulId)).toBe(true);
  });

  it('records an envelope with a routing key nothing binds as an unroutable dead letter and a rejected message', async () => {
    const body = Buffer.from(
      JSON.stringify({ id: 'lost-key-1', template: 'order_shipped', to: [{ userId: 'u-1' }], data: {} }),
    );
    await publishRaw('orders.shipped', body, 'lost-key-1');
    const d: DeadLetterJson = await deadLetterOf('lost-key-1');
    expect(d).toMatchObject({ code: 'unroutable', routingKey: 'orders.shipped' });
    expect(d.reason).toContain('orders.shipped');
    expect(Buffer.from(d.payload, d.payloadEncoding).equals(body)).toBe(true);
    const m = await api.message('lost-key-1');
    expect(m).toMatchObject({ status: 'rejected', deliveries: [] });
    expect(m?.reason).toMatch(/^unroutable: /);

    // notify.# still routes to dispatch, once.
    await publishRaw(
      'notify.order_shipped',
      Buffer.from(
        JSON.stringify({
          id: 'routed-1',
          template: 'order_shipped',
          to: [{ userId: 'u-1' }],
          data: { orderNo: '1' },
        }),
      ),
      'routed-1',
    );
    const routed = await api.finished('routed-1');
    expect(routed.status).toBe('completed');
    expect(routed.deliveries.filter((x) => x.channel === 'im').map((x) => x.attemptLog.length)).toEqual([1]);
  });

  it('records invalid JSON published with a message-id as a rejected message under that id', async () => {
    await publishRaw('notify.order_shipped', Buffer.from('{"id": "half'), 'half-json-1');
    const d = await deadLetterOf('half-json-1');
    expect(d.code).toBe('invalid_json');
    const m = await eventually(async () => api.message('half-json-1'), 10_000, 'the rejected message row');
    expect(m).toMatchObject({ status: 'rejected', templateCode: 'order_shipped', deliveries: [] });
    expect(m.reason).toMatch(/^invalid_json: envelope is not valid JSON/);
  });

  it.each([
    [
      'an unknown template, naming the closest code',
      { template: 'order_shiped' },
      'unknown_template',
      /^no active template "order_shiped" \(did you mean order_shipped\?\)$/,
    ],
    [
      'a channel the template lacks',
      { channels: ['dingtalk'] },
      'unknown_channel',
      /has no dingtalk channel/,
    ],
    [
      'data that fails the variables',
      { data: { orderNo: 7 } },
      'invalid_variables',
      /orderNo should be string, got number/,
    ],
  ])(
    'answers 422 at once for %s, records the refusal, and does not use up the id',
    async (_label, change, code, detail) => {
      const id = `refused-${code}`;
      const good = { id, template: 'order_shipped', to: [{ userId: 'u-1' }], data: { orderNo: '5' } };
      const r = await api.call<ProblemJson & { status: number }>('POST', '/v1/messages', {
        ...good,
        ...change,
      });
      expect([r.status, r.body.code]).toEqual([422, code]);
      expect(r.body.detail).toMatch(detail);
      const row = await api.message(id);
      expect(row).toMatchObject({ status: 'rejected', deliveries: [] });
      expect(row?.reason).toMatch(new RegExp(`^${code}: `));

      await api.post('/v1/messages', good, 202);
      // The row reads rejected until the consumer takes the accepted envelope: wait for the change.
      const m = await api.reaches(id, 'completed');
      expect(m).toMatchObject({ reason: null, recipientCount: 1 });
    },
  );

  it('answers 422 with the same per-variable problems as preview', async () => {
    const data = { orderNo: 7 };
    const preview = await api.call<ProblemJson>('POST', '/v1/templates/order_shipped/preview', { data });
    const publish = await api.call<ProblemJson>('POST', '/v1/messages', {
      id: 'same-as-preview',
      template: 'order_shipped',
      to: [{ userId: 'u-1' }],
      data,
    });
    expect(publish.status).toBe(422);
    expect(publish.body.errors).toEqual(preview.body.errors);
  });
});
