import amqplib from 'amqplib';
import { createPostgresDatabase } from '../../src/db/postgresDatabase';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { heraldApi } from '../support/heraldApi';

/**
 * An envelope whose dispatch keeps failing with an error that is not an outage (here a database trigger
 * refuses its message row) is returned to the queue each time; the quorum queue counts the returns and,
 * past x-delivery-limit, dead-letters it to herald.dead, where it is recorded with the reason.
 */
describeWith(['postgres', 'rabbitmq'], 'x-delivery-limit', () => {
  let dep: TestDeployment;
  let h: TestHerald;

  beforeAll(async () => {
    dep = createTestDeployment({ HERALD_DELIVERY_LIMIT: '2' });
    h = await dep.start();
    const db = createPostgresDatabase(dep.databaseUrl, 1);
    await db.sql.query(`
      CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.id = 'poison' THEN RAISE EXCEPTION 'refused by test trigger' USING ERRCODE = 'P0001'; END IF;
        RETURN NEW;
      END $$`);
    await db.sql.query(
      `CREATE TRIGGER refuse_poison BEFORE INSERT ON "Message" FOR EACH ROW EXECUTE FUNCTION refuse_poison()`,
    );
    await db.close();
  });
  afterAll(() => dep.destroy());

  it('dead-letters an envelope that crashes dispatch once the limit is reached, and goes on', async () => {
    const api = heraldApi(h.baseUrl);
    await api.createTemplate({
      code: 'notice',
      name: 'Notice',
      variables: {},
      channels: { im: { title: 't', body: 'b' } },
    });
    const conn = await amqplib.connect(TEST_AMQP_URL);
    const ch = await conn.createConfirmChannel();
    const publish = (id: string) =>
      new Promise<void>((resolve, reject) =>
        ch.publish(
          `${dep.prefix}herald`,
          'notify.notice',
          Buffer.from(JSON.stringify({ id, template: 'notice', to: [{ userId: 'u' }] })),
          { persistent: true, messageId: id },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    await publish('poison');
    await publish('healthy');
    await conn.close();

    await api.reaches('healthy', 'completed');
    const dead = await eventually(async () => {
      const page = await api.deadLetters({ messageId: 'poison' });
      return page.items.length ? page.items : undefined;
    }, 20_000);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ code: 'delivery_limit', messageId: 'poison' });
    expect(dead[0]?.reason).toMatch(/dispatch failed 3 times/);
    expect(JSON.parse(dead[0]?.payload ?? '{}')).toMatchObject({ id: 'poison' });
    expect(await api.message('poison')).toBeUndefined();
  });
});
