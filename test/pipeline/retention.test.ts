import { createHeraldPublisher, type HeraldPublisher } from '../../src/sdk/publisher';
import { purgeBatch } from '../../src/retention/purge';
import { sequenceEvents, startFromNow } from '../../src/events/sequencer';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { heraldApi, type HeraldApi } from '../support/heraldApi';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWith(['postgres', 'rabbitmq'], 'retention (HERALD_RETENTION)', () => {
  let dep: TestDeployment;
  let edge: TestHerald;
  let api: HeraldApi;
  let sdk: HeraldPublisher;
  const sql = () => edge.runtime.ctx.db.sql;

  const template = {
    code: 'retained',
    name: 'Retained',
    variables: { n: 'string' },
    channels: { im: { title: 'Item {{ n }}', body: 'body' } },
  };

  /** A message `daysAgo` old with one IM delivery of `deliveryStatus` and its attempt. */
  async function oldMessage(
    id: string,
    status: string,
    deliveryStatus: string,
    daysAgo: number,
    recipients = 1,
  ) {
    await sql().query(
      `INSERT INTO "Message" (id, "templateCode", "templateVersion", status, "recipientCount", "createdAt", "updatedAt")
       VALUES ($1, 'retained', 1, $2::"MessageStatus", $3, now() - $4 * interval '1 day', now() - $4 * interval '1 day')`,
      [id, status, recipients, daysAgo],
    );
    await sql().query(
      `WITH d AS (
         INSERT INTO "Delivery" (id, "messageId", channel, "recipientIndex", "recipientKey", "userId", "templateCode", status, attempts, "createdAt", "updatedAt")
         VALUES (gen_random_uuid(), $1, 'im', 0, 'user:u-old', 'u-old', 'retained', $2::"DeliveryStatus", 1,
                 now() - $3 * interval '1 day', now() - $3 * interval '1 day')
         RETURNING id)
       INSERT INTO "DeliveryAttempt" ("deliveryId", attempt, outcome, "durationMs", "createdAt")
       SELECT id, 1, 'sent', 1, now() - $3 * interval '1 day' FROM d`,
      [id, deliveryStatus, daysAgo],
    );
  }

  async function count(table: string, where = 'true', params: unknown[] = []): Promise<number> {
    const { rows } = await sql().query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${table}" WHERE ${where}`,
      params,
    );
    return rows[0]?.n ?? -1;
  }

  beforeAll(async () => {
    dep = createTestDeployment();
    edge = await dep.start({ HERALD_ROLES: 'api,gateway' });
    api = heraldApi(edge.baseUrl);
    await api.createTemplate(template);
    sdk = await createHeraldPublisher({ url: TEST_AMQP_URL, prefix: dep.prefix });
  });
  afterAll(async () => {
    await sdk?.close();
    await dep?.destroy();
  });

  it('removes finished old messages with their rows, keeps unfinished and recent work, and still knows the ids', async () => {
    for (let i = 0; i < 30; i++) await oldMessage(`old-done-${i}`, 'completed', 'sent', 3);
    await oldMessage('old-failed', 'failed', 'failed', 3);
    await oldMessage('old-but-retrying', 'dispatched', 'retrying', 3);
    // A finished status whose delivery says otherwise is kept too: the delivery is what still moves.
    await oldMessage('old-completed-still-retrying', 'completed', 'retrying', 3);
    await oldMessage('old-scheduled', 'scheduled', 'queued', 3);
    await oldMessage('recent-done', 'completed', 'sent', 0.5);
    await sql().query(
      `INSERT INTO "InboxItem" (id, "userId", seq, title, body, "createdAt", "readAt")
       SELECT gen_random_uuid(), 'u-inbox', g, 't', 'b', now() - interval '5 days',
              CASE WHEN g <= 4 THEN now() - interval '3 days' WHEN g <= 6 THEN now() - interval '1 hour' END
       FROM generate_series(1, 8) g`,
    );

    const worker = await dep.start({ HERALD_ROLES: 'consumer', HERALD_RETENTION: '1d' });
    try {
      await eventually(
        async () => (await count('Message', `id LIKE 'old-done-%'`)) === 0,
        20_000,
        'old messages removed',
      );
      await eventually(
        async () => (await count('InboxItem', `"userId" = 'u-inbox'`)) === 4,
        20_000,
        'old read items removed',
      );
      // Every kind retention removes has its series from the first batch on (counted once the batch is
      // done, which may be after its rows are gone).
      const kinds = [
        'message',
        'inbox_item',
        'purged_record',
        'status_event',
        'webhook_attempt',
        'digest_window',
        'expired_check',
      ];
      const series = async () =>
        (await (await fetch(`${worker.baseUrl}/metrics`)).text())
          .split('\n')
          .filter((l) => l.startsWith('herald_retention_removed_total{'));
      const lines = await eventually(
        async () => {
          const found = await series();
          return found.length >= kinds.length && found;
        },
        20_000,
        'a series of each kind',
      );
      for (const kind of kinds)
        expect(
          lines.some((l) => new RegExp(`^herald_retention_removed_total\\{kind="${kind}"\\} \\d+$`).test(l)),
        ).toBe(true);
    } finally {
      await worker.stop();
    }

    expect(await count('Message', `id = 'old-failed'`)).toBe(0);
    expect(await count('Delivery', `"messageId" LIKE 'old-done-%' OR "messageId" = 'old-failed'`)).toBe(0);
    expect(await count('DeliveryAttempt', `"deliveryId" NOT IN (SELECT id FROM "Delivery")`)).toBe(0);
    for (const kept of ['old-but-retrying', 'old-completed-still-retrying', 'old-scheduled', 'recent-done'])
      expect(await count('Message', 'id = $1', [kept])).toBe(1);
    // Unread items stay however old they are; items read recently stay.
    expect(
      await count(
        'InboxItem',
        `"userId" = 'u-inbox' AND ("readAt" IS NULL OR "readAt" > now() - interval '1 day')`,
      ),
    ).toBe(4);
    const { rows } = await sql().query<{ id: string; status: string }>(
      `SELECT id, status::text FROM "PurgedMessage" WHERE id IN ('old-done-0', 'old-failed') ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: 'old-done-0', status: 'completed' },
      { id: 'old-failed', status: 'failed' },
    ]);

    const gone = await api.call<{ code: string; detail: string }>('GET', '/v1/messages/old-done-0');
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('message_purged');
    expect(gone.body.detail).toMatch(/finished completed/);
  });

  it('treats an envelope published again under a removed id as the duplicate it is', async () => {
    const worker = await dep.start({ HERALD_ROLES: 'consumer' });
    try {
      // Same queue, published after: by the time the fresh one is done the removed id has been taken.
      await sdk.publish({
        id: 'old-done-1',
        template: 'retained',
        to: [{ userId: 'u-again' }],
        data: { n: '1' },
      });
      await sdk.publish({
        id: 'fresh-after',
        template: 'retained',
        to: [{ userId: 'u-again' }],
        data: { n: '2' },
      });
      await api.finished('fresh-after');
      await sleep(500);
      expect(await count('Message', `id = 'old-done-1'`)).toBe(0);
      expect(await count('Delivery', `"messageId" = 'old-done-1'`)).toBe(0);
      expect(await count('InboxItem', `"userId" = 'u-again'`)).toBe(1);
      // A scheduled copy of a removed id is not held for later either.
      await sdk.publish({
        id: 'old-done-2',
        template: 'retained',
        to: [{ userId: 'u-again' }],
        data: { n: '3' },
        delay: '1h',
      });
      await sdk.publish({
        id: 'fresh-after-2',
        template: 'retained',
        to: [{ userId: 'u-again' }],
        data: { n: '4' },
      });
      await api.finished('fresh-after-2');
      await sleep(500);
      expect(await count('Message', `id = 'old-done-2'`)).toBe(0);
      expect(await count('ScheduledJob', `key = 'old-done-2'`)).toBe(0);
    } finally {
      await worker.stop();
    }
  });

  it('cuts a batch short at its delivery budget, and takes the big message alone', async () => {
    await oldMessage('wide-1', 'completed', 'sent', 3, 1_000);
    await oldMessage('narrow-1', 'completed', 'sent', 2.9);
    const first = await purgeBatch(sql(), new Date(Date.now() - 86_400_000), {
      messages: 10,
      deliveries: 100,
      rows: 100,
    });
    expect(first.messages).toBe(1);
    expect(first.more).toBe(true);
    expect(await count('Message', `id = 'wide-1'`)).toBe(0);
    expect(await count('Message', `id = 'narrow-1'`)).toBe(1);
    const second = await purgeBatch(sql(), new Date(Date.now() - 86_400_000), {
      messages: 10,
      deliveries: 100,
      rows: 100,
    });
    expect(second.messages).toBe(1);
    expect(await count('Message', `id = 'narrow-1'`)).toBe(0);
  });

  it('forgets a removed id once its record is itself older than the retention', async () => {
    await sql().query(
      `INSERT INTO "PurgedMessage" (id, status, "finishedAt", "purgedAt")
       VALUES ('long-gone', 'completed', now() - interval '9 days', now() - interval '4 days'),
              ('recently-gone', 'completed', now() - interval '5 days', now() - interval '1 hour')`,
    );
    await purgeBatch(sql(), new Date(Date.now() - 86_400_000));
    expect(await count('PurgedMessage', `id = 'long-gone'`)).toBe(0);
    expect(await count('PurgedMessage', `id = 'recently-gone'`)).toBe(1);
  });

  it('removes old status events only once every webhook endpoint is past them, and old webhook attempts', async () => {
    const base =
      Number(
        (await sql().query<{ top: string | null }>(`SELECT max(seq)::text AS top FROM "StatusEvent"`)).rows[0]
          ?.top ?? 0,
      ) + 1000;
    const cutoff = () => new Date(Date.now() - 86_400_000);
    const event = (seq: number, daysAgo: number, messageId: string | null = null) =>
      sql().query(
        `INSERT INTO "StatusEvent" (id, seq, type, "messageId", payload, "occurredAt")
         VALUES (gen_random_uuid(), $1, 'message.accepted', $2, '{}', now() - $3 * interval '1 day')`,
        [base + seq, messageId, daysAgo],
      );
    const left = async () =>
      (
        await sql().query<{ seq: string }>(
          `SELECT seq::text FROM "StatusEvent" WHERE seq > $1 ORDER BY seq`,
          [base],
        )
      ).rows.map((r) => Number(r.seq) - base);
    const endpoint = (cursor: number, enabled: boolean) =>
      sql().query<{ id: string }>(
        `INSERT INTO "StatusWebhook" (id, url, events, templates, secret, enabled, cursor)
         VALUES (gen_random_uuid(), 'https://status-hooks.example.com/retention', '{message.accepted}', '{}', 'sealed', $1, $2)
         RETURNING id`,
        [enabled, base + cursor],
      );

    await oldMessage('kept-with-events', 'dispatched', 'retrying', 3);
    for (const seq of [1, 2, 3, 4, 5]) await event(seq, 3, seq === 5 ? 'purged-long-ago' : null);
    await event(6, 3, 'kept-with-events');
    await event(7, 0);
    const sending = (await endpoint(3, true)).rows[0]?.id;
    // A disabled endpoint resumes from its cursor when re-enabled: what it has not been sent stays too.
    const paused = (await endpoint(4, false)).rows[0]?.id;
    await sql().query(
      `INSERT INTO "StatusWebhookAttempt" ("webhookId", "eventId", "eventType", attempt, outcome, "durationMs", "createdAt")
       VALUES ($1, gen_random_uuid(), 'message.accepted', 1, 'delivered', 5, now() - interval '3 days'),
              ($1, gen_random_uuid(), 'message.accepted', 1, 'failed', 5, now() - interval '3 days'),
              ($1, gen_random_uuid(), 'message.accepted', 2, 'delivered', 5, now())`,
      [sending],
    );

    const first = await purgeBatch(sql(), cutoff());
    expect(await left()).toEqual([4, 5, 6, 7]);
    expect(first.statusEvents).toBe(3);
    expect(first.webhookAttempts).toBe(2);
    expect(await count('StatusWebhookAttempt', `"webhookId" = $1`, [sending])).toBe(1);

    await sql().query(`UPDATE "StatusWebhook" SET cursor = $1 WHERE id = ANY($2::uuid[])`, [
      base + 7,
      [sending, paused],
    ]);
    await purgeBatch(sql(), cutoff());
    // The message still kept keeps its events (its timeline shows them); recent ones stay.
    expect(await left()).toEqual([6, 7]);

    // The highest number stays, however old and whoever read it: the sequencer continues from it.
    await sql().query(`DELETE FROM "StatusWebhook" WHERE id = ANY($1::uuid[])`, [[sending, paused]]);
    await sql().query(`DELETE FROM "StatusEvent" WHERE seq = $1`, [base + 7]);
    await event(8, 3);
    await purgeBatch(sql(), cutoff());
    expect(await left()).toEqual([6, 8]);
  });

  it('numbers, then removes, old status events no endpoint ever numbered; an endpoint made meanwhile misses nothing', async () => {
    const cutoff = () => new Date(Date.now() - 86_400_000);
    const unnumbered = (messageId: string, daysAgo: number) =>
      sql().query(
        `INSERT INTO "StatusEvent" (id, type, "messageId", payload, "occurredAt")
         VALUES (gen_random_uuid(), 'message.accepted', $1, '{}', now() - $2 * interval '1 day')`,
        [messageId, daysAgo],
      );
    // With no webhook endpoint nothing numbers events, and only numbered ones were ever removed.
    expect(await count('StatusWebhook')).toBe(0);
    for (let i = 0; i < 3; i++) await unnumbered('unnumbered-gone', 3);
    await unnumbered('unnumbered-recent', 0);
    // Where an endpoint created now would start reading.
    const start = await startFromNow(sql());

    await purgeBatch(sql(), cutoff());
    expect(await count('StatusEvent', `"messageId" = 'unnumbered-gone'`)).toBe(0);
    expect(await count('StatusEvent', `"messageId" = 'unnumbered-recent'`)).toBe(1);

    await unnumbered('after-purge', 0);
    await sequenceEvents(sql());
    const { rows } = await sql().query<{ seq: string }>(
      `SELECT seq::text FROM "StatusEvent" WHERE "messageId" = 'after-purge'`,
    );
    // Deleting the unnumbered events instead would have numbered this one at or below `start`.
    expect(BigInt(rows[0]?.seq ?? 0)).toBeGreaterThan(start);
  });

  it('removes finished digest windows once their digest message is gone, then the messages they collected', async () => {
    const cutoff = () => new Date(Date.now() - 86_400_000);
    /** A window that ended `daysAgo`, and a message collected into it whose delivery is `deliveryStatus`. */
    async function window(id: string, daysAgo: number, opts: { open?: boolean; collected?: string } = {}) {
      await sql().query(
        `INSERT INTO "DigestBucket" (id, "openKey", "templateCode", scope, "recipientKey", key, "windowStart", "closesAt",
                                     events, recipients, channels, "closedAt", "createdAt")
         VALUES ($1, $2, 'retained', 'recipient', 'user:u-old', '', now() - ($3 + 0.01) * interval '1 day',
                 now() - $3 * interval '1 day', 1, '[{"userId":"u-old"}]', '{im}',
                 CASE WHEN $2::text IS NULL THEN now() - $3 * interval '1 day' END, now() - ($3 + 0.01) * interval '1 day')`,
        [id, opts.open ? `open-${id}` : null, daysAgo],
      );
      if (!opts.collected) return;
      await oldMessage(`collected-${id}`, 'digested', opts.collected, daysAgo + 0.01);
      await sql().query(`UPDATE "Delivery" SET "digestMessageId" = $1 WHERE "messageId" = $2`, [
        id,
        `collected-${id}`,
      ]);
    }
    // Flushed, and its digest message already removed by retention (the record says so).
    await window('digest-purged', 3, { collected: 'digested' });
    await sql().query(
      `INSERT INTO "PurgedMessage" (id, status, "finishedAt", "purgedAt") VALUES ('digest-purged', 'completed', now() - interval '3 days', now())`,
    );
    // Flushed, its digest message still kept (it finished recently): GET /v1/digests shows its outcome.
    await window('digest-kept', 3, { collected: 'digested' });
    await oldMessage('digest-kept', 'completed', 'sent', 0.5);
    // Empty: everything it collected was cancelled.
    await window('digest-empty', 3, { collected: 'cancelled' });
    // Open past its end, flushing, and one whose flush was lost: none of them is done.
    await window('digest-open', 3, { open: true, collected: 'digested' });
    await window('digest-flushing', 3, { collected: 'digested' });
    await sql().query(
      `INSERT INTO "ScheduledJob" (kind, key, payload, "dueAt", "runAt") VALUES ('envelope', 'digest-flushing', '{}', now() + interval '1 day', now() + interval '1 day')`,
    );
    await window('digest-lost', 3, { collected: 'digested' });
    // Ended after the cutoff.
    await window('digest-recent', 0.5, { collected: 'cancelled' });

    const windows = async () =>
      (
        await sql().query<{ id: string }>(
          `SELECT id FROM "DigestBucket" WHERE "templateCode" = 'retained' ORDER BY id`,
        )
      ).rows.map((r) => r.id);
    const collected = async () =>
      (
        await sql().query<{ id: string }>(`SELECT id FROM "Message" WHERE id LIKE 'collected-%' ORDER BY id`)
      ).rows.map((r) => r.id.replace('collected-', ''));

    const first = await purgeBatch(sql(), cutoff());
    expect(first.digestWindows).toBe(2);
    const kept = ['digest-flushing', 'digest-kept', 'digest-lost', 'digest-open', 'digest-recent'];
    expect(await windows()).toEqual(kept);
    // What a removed window collected goes in the next batch; a kept window keeps what it collected.
    await purgeBatch(sql(), cutoff());
    expect(await collected()).toEqual(kept);
    expect(await count('PurgedMessage', `id = 'collected-digest-purged'`)).toBe(1);
    expect(await count('Message', `id = 'digest-kept'`)).toBe(1);
    await sql().query(`DELETE FROM "ScheduledJob" WHERE key = 'digest-flushing'`);
  });
});
