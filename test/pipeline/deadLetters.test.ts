import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { heraldApi, orderShipped, type DeadLetterJson, type HeraldApi } from '../support/heraldApi';

/** Each bad input, as raw bytes on the wire, with the code and reason Herald must give it. */
const BAD_INPUTS: Array<{ name: string; bytes: Buffer; code: string; reason: RegExp; messageId?: string }> = [
  {
    name: 'invalid JSON',
    bytes: Buffer.from('{"id": "half-an-envelope", '),
    code: 'invalid_json',
    reason: /^envelope is not valid JSON: /,
  },
  {
    name: 'invalid UTF-8',
    bytes: Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    code: 'invalid_utf8',
    reason: /^envelope is not valid UTF-8$/,
  },
  {
    name: 'an envelope failing the schema',
    bytes: json({ id: 'bad-schema', template: 'order_shipped', to: [], data: {} }),
    code: 'invalid_envelope',
    reason: /^to: .*1/,
    messageId: 'bad-schema',
  },
  {
    name: 'an unknown template',
    bytes: json({ id: 'no-template', template: 'nope', to: [{ userId: 'u-1' }], data: { orderNo: '1' } }),
    code: 'unknown_template',
    reason: /^no active template "nope"$/,
    messageId: 'no-template',
  },
  {
    name: 'a missing variable',
    bytes: json({ id: 'missing-var', template: 'order_shipped', to: [{ userId: 'u-1' }], data: {} }),
    code: 'invalid_variables',
    reason: /^orderNo: missing \(expected string\)$/,
    messageId: 'missing-var',
  },
  {
    name: 'a mistyped variable',
    bytes: json({
      id: 'mistyped-var',
      template: 'order_shipped',
      to: [{ userId: 'u-1' }],
      data: { orderNo: 42 },
    }),
    code: 'invalid_variables',
    reason: /^orderNo: expected string, got number$/,
    messageId: 'mistyped-var',
  },
];

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

describeWith(['postgres', 'rabbitmq'], 'pipeline on RabbitMQ: bad input goes to dead letters', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let api: HeraldApi;
  let conn: ChannelModel;
  let ch: ConfirmChannel;

  const publishRaw = async (bytes: Buffer) => {
    ch.publish(`${dep.prefix}herald`, 'notify.x', bytes, {
      persistent: true,
      contentType: 'application/json',
    });
    await ch.waitForConfirms();
  };
  const allDeadLetters = async () => (await api.deadLetters({ limit: '100' })).items;

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

  it('dead-letters each bad envelope with its code and reason and goes on with the next', async () => {
    for (const bad of BAD_INPUTS) await publishRaw(bad.bytes);
    await publishRaw(
      json({ id: 'good-1', template: 'order_shipped', to: [{ userId: 'u-1' }], data: { orderNo: '7' } }),
    );

    const good = await api.finished('good-1');
    expect(good.status).toBe('completed');
    expect(good.deliveries.map((d) => `${d.channel}:${d.status}`).sort()).toEqual([
      'im:sent',
      'mail:skipped',
    ]);

    const letters = await eventually(
      async () => {
        const items = await allDeadLetters();
        return items.length >= BAD_INPUTS.length ? items : undefined;
      },
      15_000,
      'every dead letter to be recorded',
    );
    expect(letters).toHaveLength(BAD_INPUTS.length);
    for (const bad of BAD_INPUTS) {
      const found = letters.filter((d) => Buffer.from(d.payload, d.payloadEncoding).equals(bad.bytes));
      expect({ name: bad.name, count: found.length }).toEqual({ name: bad.name, count: 1 });
      const d = found[0] as DeadLetterJson;
      expect({ name: bad.name, code: d.code, messageId: d.messageId, routingKey: d.routingKey }).toEqual({
        name: bad.name,
        code: bad.code,
        messageId: bad.messageId ?? null,
        routingKey: 'notify.x',
      });
      expect(d.reason).toMatch(bad.reason);
      expect(d.replayedAt).toBeNull();
    }
    expect(letters.find((d) => d.code === 'invalid_utf8')?.payloadEncoding).toBe('base64');

    for (const bad of BAD_INPUTS.filter((b) => b.messageId)) {
      const m = await api.message(bad.messageId as string);
      expect({ id: bad.messageId, status: m?.status, deliveries: m?.deliveries.length }).toEqual({
        id: bad.messageId,
        status: 'rejected',
        deliveries: 0,
      });
      expect(m?.reason?.startsWith(`${bad.code}: `)).toBe(true);
      expect(m?.reason?.slice(bad.code.length + 2)).toMatch(bad.reason);
    }
    expect((await api.deadLetters({ code: 'invalid_variables' })).items).toHaveLength(2);
    expect((await api.deadLetters({ messageId: 'no-template' })).items).toHaveLength(1);

    // Nothing is left in the queues: each bad envelope was acked off dispatch and off dead once recorded.
    const depth = async (queue: string) => (await ch.checkQueue(`${dep.prefix}${queue}`)).messageCount;
    await eventually(
      async () => (await depth('herald.dispatch')) === 0 && (await depth('herald.dead')) === 0,
      10_000,
      'empty queues',
    );
  });

  it('replays a dead letter once its template exists, and the message completes', async () => {
    const [letter] = (await api.deadLetters({ messageId: 'no-template' })).items;
    if (!letter) throw new Error('no dead letter for no-template');
    await api.createTemplate({
      code: 'nope',
      name: 'Created after the fact',
      variables: { orderNo: 'string' },
      channels: { im: { title: 'Order {{ orderNo }}', body: 'late' } },
    });
    const replayed = await api.expectStatus<DeadLetterJson>(
      202,
      'POST',
      `/v1/dead-letters/${letter.id}/replay`,
    );
    expect(replayed.replayedAt).not.toBeNull();

    const m = await api.reaches('no-template', 'completed');
    expect(m).toMatchObject({
      status: 'completed',
      reason: null,
      templateCode: 'nope',
      templateVersion: 1,
      recipientCount: 1,
    });
    expect(m.deliveries.map((d) => `${d.channel}:${d.status}:${d.attemptLog.length}`)).toEqual(['im:sent:1']);
    // The replay succeeded, so no new dead letter appeared.
    expect(await allDeadLetters()).toHaveLength(BAD_INPUTS.length);

    const missing = await api.call('POST', '/v1/dead-letters/00000000-0000-4000-8000-000000000000/replay');
    expect(missing.status).toBe(404);
  });

  it('deletes one dead letter, then purges the rest', async () => {
    const [first] = await allDeadLetters();
    if (!first) throw new Error('no dead letters');
    expect((await api.call('DELETE', `/v1/dead-letters/${first.id}`)).status).toBe(204);
    expect((await api.call('GET', `/v1/dead-letters/${first.id}`)).status).toBe(404);
    expect((await api.call('DELETE', `/v1/dead-letters/${first.id}`)).status).toBe(404);
    expect(await allDeadLetters()).toHaveLength(BAD_INPUTS.length - 1);

    expect((await api.call('DELETE', '/v1/dead-letters')).status).toBe(400);
    expect(await allDeadLetters()).toHaveLength(BAD_INPUTS.length - 1);
    expect(await api.call('DELETE', '/v1/dead-letters?confirm=yes')).toEqual({
      status: 200,
      body: { purged: BAD_INPUTS.length - 1 },
    });
    expect(await allDeadLetters()).toEqual([]);
  });
});
