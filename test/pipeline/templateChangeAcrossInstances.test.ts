import amqplib from 'amqplib';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { heraldApi } from '../support/heraldApi';

/**
 * Two instances on one broker and database: a template changed through one is used by the other at
 * once, because the change is announced on the events exchange and drops the other's cached version.
 */
describeWith(['postgres', 'rabbitmq'], 'template cache across instances', () => {
  let dep: TestDeployment;
  let a: TestHerald;
  let b: TestHerald;

  beforeAll(async () => {
    dep = createTestDeployment();
    a = await dep.start({ HERALD_ROLES: 'api' });
    b = await dep.start({ HERALD_ROLES: 'api,consumer,gateway' });
  });
  afterAll(() => dep.destroy());

  const template = (title: string) => ({
    code: 'notice',
    name: 'Notice',
    variables: { n: 'number' },
    channels: { im: { title, body: 'n = {{ n }}' } },
  });
  const send = (id: string) =>
    heraldApi(a.baseUrl).expectStatus(202, 'POST', '/v1/messages', {
      id,
      template: 'notice',
      to: [{ userId: 'u-1' }],
      data: { n: 1 },
    });
  const titles = async () => {
    const inbox = await heraldApi(b.baseUrl).expectStatus<{ items: Array<{ title: string }> }>(
      200,
      'GET',
      '/v1/users/u-1/inbox',
    );
    return inbox.items.map((i) => i.title);
  };

  it('renders with the version written through the other instance', async () => {
    await heraldApi(a.baseUrl).createTemplate(template('first'));
    await send('m-1');
    await heraldApi(b.baseUrl).reaches('m-1', 'completed');

    // b's consumer has version 1 cached now; the update goes through a.
    await heraldApi(a.baseUrl).expectStatus(200, 'PUT', '/v1/templates/notice', template('second'));
    await send('m-2');
    const m2 = await heraldApi(b.baseUrl).reaches('m-2', 'completed');
    expect(m2.templateVersion).toBe(2);
    expect(await titles()).toEqual(['second', 'first']);

    // Archived through a: b rejects the next envelope instead of using its cache.
    await heraldApi(a.baseUrl).expectStatus(200, 'DELETE', '/v1/templates/notice');
    // Over HTTP the publish is refused at once (422); straight on the broker it reaches b's consumer.
    const refused = await heraldApi(a.baseUrl).call<{ code: string }>('POST', '/v1/messages', {
      id: 'm-3',
      template: 'notice',
      to: [{ userId: 'u-1' }],
      data: { n: 1 },
    });
    expect([refused.status, refused.body.code]).toEqual([422, 'unknown_template']);
    const conn = await amqplib.connect(TEST_AMQP_URL);
    try {
      const ch = await conn.createConfirmChannel();
      const envelope = { id: 'm-4', template: 'notice', to: [{ userId: 'u-1' }], data: { n: 1 } };
      ch.publish(`${dep.prefix}herald`, 'notify.notice', Buffer.from(JSON.stringify(envelope)), {
        persistent: true,
        messageId: 'm-4',
      });
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    const m3 = await eventually(async () => {
      const m = await heraldApi(b.baseUrl).message('m-4');
      return m?.status === 'rejected' ? m : undefined;
    });
    expect(m3.reason).toMatch(/^unknown_template: /);
  });
});
