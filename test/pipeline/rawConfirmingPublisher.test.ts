import amqplib from 'amqplib';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { heraldApi } from '../support/heraldApi';
import { pipelineCounts } from './support/pipelineCounts';

const CONNECTIONS = 10;
const PER_CONNECTION = 200;
const TOTAL = CONNECTIONS * PER_CONNECTION;

/**
 * What the README tells "any AMQP client" to do, done with plain amqplib instead of the SDK: a confirm
 * channel, wait for the confirms, then close. Ten short connections, each closed right after its last
 * publish (the pattern that lost about a tenth of unconfirmed publishes to the quorum queue), lose nothing.
 */
describeWith(['postgres', 'rabbitmq'], 'a raw AMQP publisher with confirms, in short connections', () => {
  let dep: TestDeployment;
  let h: TestHerald;

  beforeAll(async () => {
    dep = createTestDeployment();
    h = await dep.start();
    await heraldApi(h.baseUrl).createTemplate({
      code: 'raw',
      name: 'Raw',
      variables: { n: 'number' },
      channels: { im: { title: 'Raw {{ n }}', body: 'b' } },
    });
  });
  afterAll(() => dep?.destroy());

  it(`delivers all ${TOTAL} envelopes published in ${CONNECTIONS} connections closed right after their confirms`, async () => {
    for (let c = 0; c < CONNECTIONS; c++) {
      const conn = await amqplib.connect(TEST_AMQP_URL);
      const ch = await conn.createConfirmChannel();
      for (let i = 0; i < PER_CONNECTION; i++) {
        const n = c * PER_CONNECTION + i;
        const envelope = { id: `raw-${n}`, template: 'raw', to: [{ userId: `u-${n % 50}` }], data: { n } };
        ch.publish(`${dep.prefix}herald`, 'notify.raw', Buffer.from(JSON.stringify(envelope)), {
          persistent: true,
          contentType: 'application/json',
          messageId: envelope.id,
        });
      }
      await ch.waitForConfirms();
      await conn.close();
    }
    const counts = await eventually(
      async () => {
        const now = await pipelineCounts(h.runtime.ctx.db.sql);
        return now.completed === TOTAL ? now : undefined;
      },
      180_000,
      `${TOTAL} completed messages`,
    );
    expect(counts).toMatchObject({
      messages: TOTAL,
      completed: TOTAL,
      inboxItems: TOTAL,
      attemptsSent: TOTAL,
    });
    expect((await heraldApi(h.baseUrl).deadLetters()).items).toEqual([]);
  }, 240_000);
});
