import { randomBytes } from 'node:crypto';
import { dispatch } from '../../src/consumer/dispatch';
import type { TemplateResolver } from '../../src/consumer/dispatchTypes';
import { createPostgresDatabase } from '../../src/db/postgresDatabase';
import type { Database } from '../../src/db/database';
import { ensureDeliveries, type DeliveriesToEnsure } from '../../src/delivery/deliveryState';
import type { Admission } from '../../src/delivery/plannedInsert';
import { purgeBatch } from '../../src/retention/purge';
import { describeWith } from '../support/services';
import { createTestPglite, createTestPostgres, type TestDatabase } from '../support/testDatabase';
import { dispatchDeps, fixedTemplates, scriptedSender } from './support/dispatchStubs';

let seq = 0;
const nextId = (prefix: string) => `${prefix}-${++seq}`;

/** One IM delivery to `userId` of a new message, with the given checks. */
function planned(messageId: string, userId: string, admission: Admission): DeliveriesToEnsure {
  return {
    messageId,
    templateCode: 'alerts',
    planned: [
      {
        channel: 'im',
        recipientIndex: 0,
        recipientKey: `user:${userId}`,
        userId,
        status: 'queued',
        ...admission,
      },
    ],
  };
}

async function addMessages(db: Database, ids: readonly string[]): Promise<void> {
  await db.sql.query(
    `INSERT INTO "Message" (id, "templateCode", status) SELECT id, 'alerts', 'accepted' FROM unnest($1::text[]) AS id`,
    [ids],
  );
}

async function statuses(db: Database, ids: readonly string[]): Promise<string[]> {
  const { rows } = await db.sql.query<{ s: string }>(
    `SELECT status || coalesce(':' || reason, '') AS s FROM "Delivery" WHERE "messageId" = ANY($1::text[])`,
    [ids],
  );
  return rows.map((r) => r.s).sort();
}

const throttle = (limit: number, key = '') => ({ throttle: { key, limit, windowMs: 60_000 } });
const dedupe = (contentHash: string) => ({ dedupe: { contentHash, windowMs: 60_000 } });

describeWith(['postgres'], 'throttle and deduplication in the statement that records deliveries', () => {
  let tdb: TestDatabase;
  let other: Database;

  beforeAll(async () => {
    tdb = await createTestPostgres();
    // A second pool on the same schema: another instance's connections.
    other = createPostgresDatabase(tdb.url as string, 5);
  });
  afterAll(async () => {
    await other?.close();
    await tdb?.drop();
  });

  it('lets exactly `limit` through when two instances record twenty deliveries for one person at once', async () => {
    const ids = Array.from({ length: 20 }, () => nextId('burst'));
    await addMessages(tdb.db, ids);
    await Promise.all(
      ids.map((id, i) =>
        ensureDeliveries((i % 2 ? other : tdb.db).sql, [planned(id, 'u-burst', throttle(3))]),
      ),
    );
    const got = await statuses(tdb.db, ids);
    expect(got.filter((s) => s === 'queued')).toHaveLength(3);
    expect(got.filter((s) => s === 'skipped:throttled')).toHaveLength(17);
  });

  it('counts within one batch too, per key value, and never counts a delivery again', async () => {
    const ids = Array.from({ length: 5 }, () => nextId('batch'));
    await addMessages(tdb.db, ids);
    const reqs = [
      ...ids.slice(0, 4).map((id) => planned(id, 'u-batch', throttle(2, 'web'))),
      planned(ids[4] as string, 'u-batch', throttle(2, 'api')),
    ];
    // The same envelope twice in the batch (published twice) is one delivery and one count.
    const rows = await ensureDeliveries(tdb.db.sql, [reqs[0] as DeliveriesToEnsure, ...reqs]);
    expect(rows.map((r) => r.map((d) => d.status))).toEqual([
      ['queued'],
      ['queued'],
      ['queued'],
      ['skipped'],
      ['skipped'],
      ['queued'],
    ]);
    expect(rows[3]?.[0]?.skippedNow).toBe('throttled');
    // Recorded again (a redelivery): the rows are found, nothing is counted or reported as new.
    const again = await ensureDeliveries(tdb.db.sql, reqs);
    expect(again.flat().map((d) => d.skippedNow ?? null)).toEqual([null, null, null, null, null]);
    const { rows: windows } = await tdb.db.sql.query<{ key: string; n: number }>(
      `SELECT key, cardinality("messageIds") AS n FROM "ThrottleWindow" WHERE "recipientKey" = 'user:u-batch' ORDER BY key`,
    );
    expect(windows).toEqual([
      { key: 'api', n: 1 },
      { key: 'web', n: 2 },
    ]);
  });

  it('slides: an entry older than the window frees its place', async () => {
    const [a, b, c] = [nextId('slide'), nextId('slide'), nextId('slide')];
    await addMessages(tdb.db, [a, b, c]);
    await ensureDeliveries(tdb.db.sql, [planned(a, 'u-slide', throttle(1))]);
    await ensureDeliveries(tdb.db.sql, [planned(b, 'u-slide', throttle(1))]);
    await tdb.db.sql.query(
      `UPDATE "ThrottleWindow" SET "sentAt" = ARRAY[now() - interval '61 seconds'] WHERE "recipientKey" = 'user:u-slide'`,
    );
    await ensureDeliveries(tdb.db.sql, [planned(c, 'u-slide', throttle(1))]);
    expect(await statuses(tdb.db, [a])).toEqual(['queued']);
    expect(await statuses(tdb.db, [b])).toEqual(['skipped:throttled']);
    expect(await statuses(tdb.db, [c])).toEqual(['queued']);
  });

  it('keeps one of the same content to one person across instances, and lets other content and people through', async () => {
    const same = Array.from({ length: 10 }, () => nextId('same'));
    const [different, otherPerson] = [nextId('diff'), nextId('person')];
    await addMessages(tdb.db, [...same, different, otherPerson]);
    await Promise.all([
      ...same.map((id, i) =>
        ensureDeliveries((i % 2 ? other : tdb.db).sql, [planned(id, 'u-d', dedupe('h1'))]),
      ),
      ensureDeliveries(other.sql, [planned(different, 'u-d', dedupe('h2'))]),
      ensureDeliveries(tdb.db.sql, [planned(otherPerson, 'u-e', dedupe('h1'))]),
    ]);
    const got = await statuses(tdb.db, same);
    expect(got.filter((s) => s === 'queued')).toHaveLength(1);
    expect(got.filter((s) => s === 'skipped:deduplicated')).toHaveLength(9);
    expect(await statuses(tdb.db, [different, otherPerson])).toEqual(['queued', 'queued']);
  });

  it('checks duplicates before the throttle: a duplicate uses none of the budget', async () => {
    const [a, b, c] = [nextId('order'), nextId('order'), nextId('order')];
    await addMessages(tdb.db, [a, b, c]);
    await ensureDeliveries(tdb.db.sql, [planned(a, 'u-order', { ...throttle(2), ...dedupe('x') })]);
    await ensureDeliveries(tdb.db.sql, [planned(b, 'u-order', { ...throttle(2), ...dedupe('x') })]);
    await ensureDeliveries(tdb.db.sql, [planned(c, 'u-order', { ...throttle(2), ...dedupe('y') })]);
    expect(await statuses(tdb.db, [a, b, c])).toEqual(['queued', 'queued', 'skipped:deduplicated']);
  });

  it('leaves what preference (or a missing address) skipped uncounted', async () => {
    const [a, b] = [nextId('pref'), nextId('pref')];
    await addMessages(tdb.db, [a, b]);
    const skippedPlan = planned(a, 'u-pref', throttle(1));
    const skipped = {
      ...skippedPlan,
      planned: skippedPlan.planned.map((p) => ({ ...p, status: 'skipped' as const, reason: 'preference' })),
    };
    await ensureDeliveries(tdb.db.sql, [skipped]);
    await ensureDeliveries(tdb.db.sql, [planned(b, 'u-pref', throttle(1))]);
    expect(await statuses(tdb.db, [a, b])).toEqual(['queued', 'skipped:preference']);
  });

  it('retention removes the throttle windows and keys whose window has passed, and keeps the live ones', async () => {
    const [live, old] = [nextId('ret'), nextId('ret')];
    await addMessages(tdb.db, [live, old]);
    await ensureDeliveries(tdb.db.sql, [planned(live, 'u-live', { ...throttle(1), ...dedupe('l') })]);
    await ensureDeliveries(tdb.db.sql, [planned(old, 'u-old', { ...throttle(1), ...dedupe('o') })]);
    for (const table of ['ThrottleWindow', 'DedupeKey'])
      await tdb.db.sql.query(
        `UPDATE "${table}" SET "expiresAt" = now() - interval '1 second' WHERE "recipientKey" = 'user:u-old'`,
      );
    const batch = await purgeBatch(tdb.db.sql, new Date(Date.now() - 86_400_000));
    expect(batch.expiredChecks).toBe(2);
    const left = async (table: string) =>
      (
        await tdb.db.sql.query<{ rkey: string }>(
          `SELECT "recipientKey" AS rkey FROM "${table}" WHERE "recipientKey" IN ('user:u-live', 'user:u-old')`,
        )
      ).rows.map((r) => r.rkey);
    expect(await left('ThrottleWindow')).toEqual(['user:u-live']);
    expect(await left('DedupeKey')).toEqual(['user:u-live']);
  });
});

describe('throttle and deduplication in dispatch (embedded PGlite)', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestPglite();
  });
  afterAll(() => tdb.drop());

  /** order_shipped with the given checks (sent on IM only); `critical` skips them. */
  const withChecks = (extra: Record<string, unknown>): TemplateResolver => {
    const base = fixedTemplates([{ code: 'order_shipped', channels: ['mail', 'im'] }]);
    return {
      async resolve(code) {
        const t = await base.resolve('order_shipped');
        return t && { ...t, code, ...extra };
      },
    };
  };
  const send = (template: string, deps: ReturnType<typeof dispatchDeps>, orderNo: string) =>
    dispatch(
      {
        id: nextId(template),
        template,
        to: [{ userId: 'u-1', name: 'Li' }],
        channels: ['im'],
        data: { orderNo },
      },
      deps,
    );
  const reasons = async (template: string) => {
    const { rows } = await tdb.db.sql.query<{ channel: string; status: string; reason: string | null }>(
      `SELECT channel::text, status, reason FROM "Delivery" WHERE "templateCode" = $1 ORDER BY "createdAt", channel`,
      [template],
    );
    return rows.map((r) => `${r.channel} ${r.status}${r.reason ? ` ${r.reason}` : ''}`);
  };

  it('throttles per recipient and channel, and skips the rest as throttled', async () => {
    const im = scriptedSender('im');
    const deps = dispatchDeps(
      tdb.db,
      { im },
      {
        templates: withChecks({ throttle: { limit: 2, windowMs: 60_000, keyOf: () => '' } }),
      },
    );
    for (const n of ['1', '2', '3']) await send('throttled', deps, n);
    expect(im.jobs).toHaveLength(2);
    expect(await reasons('throttled')).toEqual(['im sent', 'im sent', 'im skipped throttled']);
  });

  it('keeps a throttle key of any length (a long one by its hash)', async () => {
    const im = scriptedSender('im');
    const long = randomBytes(4000).toString('hex');
    const deps = dispatchDeps(
      tdb.db,
      { im },
      { templates: withChecks({ throttle: { limit: 1, windowMs: 60_000, keyOf: () => long } }) },
    );
    for (const n of ['1', '2']) await send('long_key', deps, n);
    expect(await reasons('long_key')).toEqual(['im sent', 'im skipped throttled']);
  });

  it('skips the same rendered content as deduplicated, and sends a different one', async () => {
    const im = scriptedSender('im');
    const deps = dispatchDeps(tdb.db, { im }, { templates: withChecks({ dedupe: { windowMs: 60_000 } }) });
    for (const n of ['7', '7', '8']) await send('deduped', deps, n);
    expect(im.jobs.map((j) => (j.channel === 'im' ? j.title : ''))).toEqual(['Order 7', 'Order 8']);
    expect(await reasons('deduped')).toEqual(['im sent', 'im skipped deduplicated', 'im sent']);
  });

  it('lets a critical template past both', async () => {
    const im = scriptedSender('im');
    const deps = dispatchDeps(
      tdb.db,
      { im },
      {
        templates: withChecks({
          critical: true,
          throttle: { limit: 1, windowMs: 60_000, keyOf: () => '' },
          dedupe: { windowMs: 60_000 },
        }),
      },
    );
    for (const n of ['1', '1', '1']) await send('critical_alert', deps, n);
    expect(im.jobs).toHaveLength(3);
  });
});
