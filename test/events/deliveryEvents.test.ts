import { dispatch } from '../../src/consumer/dispatch';
import { cancelMessage } from '../../src/delivery/cancelMessage';
import { markDelivered, markRead, recordFollowUpFindings } from '../../src/delivery/deliveryState';
import { eventsOfMessage } from '../../src/events/eventLog';
import type { SendOutcome } from '../../src/senders/sender';
import { dispatchDeps, scriptedSender } from '../consumer/support/dispatchStubs';
import { describeWith } from '../support/services';
import { createTestPglite, createTestPostgres, type TestDatabase } from '../support/testDatabase';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Backend = { name: string; open(): Promise<TestDatabase>; needs: Array<'postgres'> };
const backends: Backend[] = [
  { name: 'PostgreSQL', open: createTestPostgres, needs: ['postgres'] },
  { name: 'PGlite', open: createTestPglite, needs: [] },
];

for (const backend of backends) {
  describeWith(backend.needs, `events written by the delivery state owner on ${backend.name}`, () => {
    let t: TestDatabase;
    let n = 0;
    const envelope = (over: Record<string, unknown> = {}) => ({
      id: `ev-${++n}`,
      template: 'order_shipped',
      to: [
        { userId: 'u-1', email: 'li@example.com', name: 'Li' },
        { userId: 'u-2', name: 'Wang' },
      ],
      data: { orderNo: '981' },
      ...over,
    });
    const typesOf = async (id: string) => (await eventsOfMessage(t.db.sql, id)).map((e) => e.type).sort();
    const deliveryIds = async (id: string, channel: string) =>
      (await t.db.prisma.delivery.findMany({ where: { messageId: id, channel: channel as 'im' } })).map(
        (d) => d.id,
      );

    beforeAll(async () => {
      t = await backend.open();
    });
    afterAll(() => t.drop());

    it('announces acceptance, the skip and every send once, also when the envelope comes again', async () => {
      const mail = scriptedSender('mail', () => ({ kind: 'sent', providerId: 'smtp-1' }));
      const env = envelope();
      const deps = dispatchDeps(t.db, { mail });
      await dispatch(env, deps);
      const expected = [
        'delivery.sent', // im u-1 (recorded with its inbox item)
        'delivery.sent', // im u-2
        'delivery.sent', // mail u-1
        'delivery.skipped', // mail u-2: no address
        'message.accepted',
      ];
      expect(await typesOf(env.id)).toEqual(expected);
      await dispatch(env, deps);
      expect(await typesOf(env.id)).toEqual(expected);

      const events = await eventsOfMessage(t.db.sql, env.id);
      const skipped = events.find((e) => e.type === 'delivery.skipped');
      expect(skipped).toMatchObject({ templateCode: 'order_shipped', messageId: env.id });
      expect(skipped?.payload).toEqual({
        status: 'skipped',
        channel: 'mail',
        userId: 'u-2',
        attempt: 0,
        reason: 'recipient has no email address',
      });
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
      // Nothing announced that the delivery log does not hold.
      const sent = await t.db.prisma.delivery.count({ where: { messageId: env.id, status: 'sent' } });
      expect(events.filter((e) => e.type === 'delivery.sent')).toHaveLength(sent);
    });

    it('announces delivered and read when a socket and then the user see an item', async () => {
      const env = envelope({ channels: ['im'] });
      await dispatch(env, dispatchDeps(t.db, {}));
      const [first, second] = await deliveryIds(env.id, 'im');
      await markDelivered(t.db.sql, [first!, second!]);
      await markDelivered(t.db.sql, [first!]);
      await t.db.sql.transaction((tx) => markRead(tx, [first!]));
      const types = await typesOf(env.id);
      expect(types.filter((x) => x === 'delivery.delivered')).toHaveLength(2);
      expect(types.filter((x) => x === 'delivery.read')).toHaveLength(1);
    });

    it('announces a failure after the last retry, not each retry', async () => {
      const mail = scriptedSender('mail', (): SendOutcome => ({
        kind: 'retryable',
        code: 'ECONNREFUSED',
        message: 'connection refused',
      }));
      const env = envelope({ channels: ['mail'], to: [{ email: 'a@example.com' }] });
      const deps = dispatchDeps(t.db, { mail });
      let result = await dispatch(env, deps);
      for (let i = 0; i < 5 && result.kind === 'done' && result.retryInMs !== undefined; i++) {
        await sleep(result.retryInMs + 20);
        result = await dispatch(env, deps);
      }
      expect(mail.jobs).toHaveLength(3);
      const events = await eventsOfMessage(t.db.sql, env.id);
      expect(events.map((e) => e.type)).toEqual(['message.accepted', 'delivery.failed']);
      expect(events[1]?.payload).toMatchObject({
        attempt: 3,
        reason: 'gave up after 3 attempts: connection refused',
      });
    });

    it('announces a rejection with its reason', async () => {
      const env = envelope({ template: 'no_such_template' });
      await dispatch(env, dispatchDeps(t.db, {}));
      const events = await eventsOfMessage(t.db.sql, env.id);
      expect(events.map((e) => [e.type, e.payload.reason])).toEqual([
        ['message.rejected', 'unknown_template: no active template "no_such_template"'],
      ]);
    });

    it('announces a later check that found a send undelivered', async () => {
      const env = envelope({ channels: ['mail'], to: [{ email: 'a@example.com' }] });
      await dispatch(env, dispatchDeps(t.db, { mail: scriptedSender('mail') }));
      const [id] = await deliveryIds(env.id, 'mail');
      const finding = { deliveryId: id!, action: 'failed' as const, code: 'bounced', reason: 'mailbox full' };
      await recordFollowUpFindings(t.db.sql, [finding]);
      await recordFollowUpFindings(t.db.sql, [finding]);
      expect(await typesOf(env.id)).toEqual(['delivery.failed', 'delivery.sent', 'message.accepted']);
    });

    it('announces cancelled deliveries and the cancelled message', async () => {
      const mail = scriptedSender('mail', (): SendOutcome => ({
        kind: 'retryable',
        code: 'x',
        message: 'later',
      }));
      const env = envelope({ channels: ['mail'], to: [{ email: 'a@example.com' }] });
      await dispatch(env, dispatchDeps(t.db, { mail }, { retryDelays: [60_000] }));
      await cancelMessage(t.db.sql, env.id, 'test', async () => false);
      expect(await typesOf(env.id)).toEqual(['delivery.cancelled', 'message.accepted', 'message.cancelled']);
    });
  });
}
