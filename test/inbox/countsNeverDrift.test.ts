import { randomUUID } from 'node:crypto';
import { signUserToken } from '../../src/auth/userToken';
import type { InboxCounts } from '../../src/inbox/inboxCounts';
import type { Severity } from '../../src/inbox/inboxItem';
import { describeWith } from '../support/services';
import { createTestPostgres, type TestDatabase } from '../support/testDatabase';
import { createBrokerFixture } from '../gateway/support/brokerFixture';
import { eventually, imJob, sleep } from '../gateway/support/imJobs';
import { JWT_SECRET, startImServer, type ImTestServer } from '../gateway/support/imTestServer';
import { connect, type TestClient } from '../gateway/support/wsClient';

/** A small seeded generator, so a failing run can be replayed with its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TABS = {
  orders: { category: 'orders' },
  urgentEu: { tags: ['eu'], severity: ['high', 'critical'] as Severity[] },
};

interface ItemState {
  category: string | null;
  tags: string[];
  severity: string;
  readAt: unknown;
  seenAt: unknown;
  archivedAt: unknown;
  snoozedUntil: unknown;
  expiredAt: unknown;
  deletedAt: unknown;
}

/** The counts recomputed here from the item rows, independently of the product's SQL. */
async function countsFromItems(tdb: TestDatabase, userId: string) {
  const { rows } = await tdb.db.sql.query<ItemState>(
    `SELECT category, tags, severity, "readAt", "seenAt", "archivedAt", "snoozedUntil", "expiredAt", "deletedAt"
       FROM "InboxItem" WHERE "userId" = $1`,
    [userId],
  );
  const liveRows = rows.filter((r) => !r.archivedAt && !r.snoozedUntil && !r.expiredAt && !r.deletedAt);
  const pair = (list: ItemState[]) => ({
    unread: list.filter((r) => !r.readAt).length,
    unseen: list.filter((r) => !r.seenAt).length,
  });
  return {
    unread: pair(liveRows).unread,
    unseen: pair(liveRows).unseen,
    tabs: {
      orders: pair(liveRows.filter((r) => r.category === 'orders')),
      urgentEu: pair(
        liveRows.filter((r) => (r.tags ?? []).includes('eu') && ['high', 'critical'].includes(r.severity)),
      ),
    },
  };
}

describeWith(['postgres', 'rabbitmq'], 'inbox counts never drift', () => {
  const broker = createBrokerFixture();
  let tdb: TestDatabase;
  let s1: ImTestServer;
  let s2: ImTestServer;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    tdb = await createTestPostgres();
    s1 = await startImServer({
      db: tdb.db,
      names: broker.names,
      broker: await broker.connect(),
      inboxJobs: true,
    });
    s2 = await startImServer({
      db: tdb.db,
      names: broker.names,
      broker: await broker.connect(),
      inboxJobs: true,
    });
    for (const [name, filter] of Object.entries(TABS)) await s1.ctx.services.inbox.declareTab(name, filter);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await s1?.close();
    await s2?.close();
    await broker.cleanup();
    await tdb?.drop();
  });

  it('2,000 random operations on three sockets of one user on two instances end with every socket showing the recomputed counts of every tab', async () => {
    const seed = Number(process.env.INBOX_DRIFT_SEED ?? Date.now() % 1_000_000);
    const rand = prng(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
    const user = `drift-${randomUUID()}`;
    const token = signUserToken(JWT_SECRET, user);
    const sockets = [
      await connect(s1.wsBase, { token }),
      await connect(s1.wsBase, { token }),
      await connect(s2.wsBase, { token }),
    ];
    clients.push(...sockets);
    const ids: string[] = [];
    let lastSeq = 0;
    const ops: Record<string, number> = {};
    const errors: string[] = [];

    async function newItems(): Promise<void> {
      const n = 1 + Math.floor(rand() * 3);
      const jobs = Array.from({ length: n }, () =>
        imJob(user, `item ${ids.length}`, {
          category: pick(['orders', 'billing', undefined]),
          tags: pick([['eu'], ['us'], ['eu', 'us'], []]),
          severity: pick(['low', 'normal', 'high', 'critical'] as const),
          ...(rand() < 0.3 ? { actions: { primary: { label: 'Approve', key: 'approve' } } } : {}),
          ...(rand() < 0.15 ? { expiresAt: new Date(Date.now() + 300 + rand() * 2500).toISOString() } : {}),
        }),
      );
      const outcomes = await pick([s1, s2]).imSender.sendMany(jobs);
      for (const o of outcomes) if (o.kind === 'sent' && o.providerId) ids.push(o.providerId);
      lastSeq += n;
    }

    function selection(): Record<string, unknown> {
      const r = rand();
      if (r < 0.6 && ids.length)
        return { ids: [pick(ids), pick(ids)].filter((v, i, a) => a.indexOf(v) === i) };
      if (r < 0.75) return { upToSeq: Math.floor(rand() * (lastSeq + 1)) };
      if (r < 0.93)
        return {
          filter: pick([{ tab: 'orders' }, { tab: 'urgentEu' }, { category: 'billing' }, { tags: ['us'] }]),
        };
      return { all: true };
    }

    async function operation(): Promise<void> {
      const kind = pick([
        'new',
        'new',
        'new',
        'seen',
        'seen',
        'read',
        'read',
        'unread',
        'archive',
        'unarchive',
        'delete',
        'snooze',
        'snooze',
        'action',
      ] as const);
      ops[kind] = (ops[kind] ?? 0) + 1;
      if (kind === 'new') return newItems();
      const socket = pick(sockets);
      let frame: { type: string } & Record<string, unknown>;
      if (kind === 'snooze')
        frame = { type: 'snooze', ...selection(), for: `${200 + Math.floor(rand() * 2500)}ms` };
      else if (kind === 'action') {
        if (!ids.length) return;
        // Some items have no action, some were deleted: those answers are refusals that change nothing.
        frame = { type: 'action', id: pick(ids), action: 'primary' };
      } else frame = { type: kind, ...selection() };
      const answer = await socket.request(frame);
      const refusal =
        kind === 'action' &&
        ['unknown_action', 'not_found'].includes(String((answer as { code?: string }).code));
      if (answer.type === 'error' && !refusal) errors.push(`${kind}: ${answer.code} ${answer.message}`);
    }

    for (let done = 0; done < 2000;) {
      // A few at once, so changes from several sockets and instances race each other.
      const burst = Math.min(2000 - done, 1 + Math.floor(rand() * 6));
      await Promise.all(Array.from({ length: burst }, () => operation()));
      done += burst;
    }
    expect(errors).toEqual([]);

    // Every snooze and expiry comes due within a few seconds: wait for their rows to be done.
    await eventually(async () => {
      const { rows } = await tdb.db.sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "ScheduledJob" WHERE kind LIKE 'inbox.%' AND key LIKE $1`,
        [`${user}@%`],
      );
      return Number(rows[0]?.n) === 0;
    }, 30_000);

    const stored = await s1.ctx.services.inbox.counts(user);
    await eventually(() => sockets.every((s) => s.lastCounts()?.version === stored.version), 10_000);
    const actual = await countsFromItems(tdb, user);
    const shown = (c: InboxCounts | undefined) => ({ unread: c?.unread, unseen: c?.unseen, tabs: c?.tabs });
    for (const s of sockets) expect({ seed, ...shown(s.lastCounts()) }).toEqual({ seed, ...actual });
    expect(shown(stored)).toEqual(actual);
    expect(await s2.ctx.services.inbox.recount(user)).toEqual([]);
    // The run really mixed everything in (a weak generator would make this pass vacuously).
    expect(Object.keys(ops).sort()).toEqual(
      ['action', 'archive', 'delete', 'new', 'read', 'seen', 'snooze', 'unarchive', 'unread'].sort(),
    );
    expect(stored.version).toBeGreaterThan(500);
    await sleep(0);
  }, 240_000);
});
