import { createInboxStore } from '../../src/inbox/inboxStore';
import { JWT_SECRET } from '../../test/support/testHerald';
import type { Child } from '../lib/childRpc';
import type { BenchDeployment } from '../lib/deployment';
import type { ScenarioResult } from '../lib/report';
import { expectCount, percentile, round, waitUntil } from '../lib/stats';

/**
 * snooze-wake (issue 16): users with a live socket each snooze their items until the same second; the
 * figure is how late the woken items reach the sockets after that second (p50, p99, max), every one
 * counted, none before it. No baseline: the scheduler's claim loop and the push are the whole cost.
 * Each item's body is the wake time, so the socket child's latency is the lateness.
 */
export async function runSnoozeWake(
  bench: BenchDeployment,
  clients: Child,
  o: { users: number; itemsPerUser: number; leadMs: number; runId: string },
): Promise<ScenarioResult> {
  const prefix = `bench-snooze-${o.runId}`;
  const users = Array.from({ length: o.users }, (_, i) => `${prefix}-u${i}`);
  const edge = await bench.start('api,gateway');
  const worker = await bench.start('consumer');
  try {
    const wakeAt = Math.ceil((Date.now() + o.leadMs) / 1000) * 1000;
    const inbox = createInboxStore(bench.db.sql);
    for (const userId of users)
      await bench.db.sql.query(
        `INSERT INTO "InboxItem" (id, "userId", seq, title, body, "createdAt")
         SELECT gen_random_uuid(), $1, g, 'snoozed ' || g, $3, now() FROM generate_series(1, $2::int) g`,
        [userId, o.itemsPerUser, String(wakeAt)],
      );
    await bench.db.sql.query(
      `INSERT INTO "InboxCounter" ("userId", "lastSeq") SELECT u, $2 FROM unnest($1::text[]) u`,
      [users, o.itemsPerUser],
    );
    for (const userId of users) await inbox.recount(userId);
    await clients.call('connect', {
      wsBase: `${edge.wsBase}/v1/ws`,
      secret: JWT_SECRET,
      users,
      concurrency: 50,
    });
    for (const userId of users)
      await inbox.change(userId, { kind: 'snooze', until: new Date(wakeAt) }, { all: true });
    const snoozedWithMsToSpare = wakeAt - Date.now();
    if (snoozedWithMsToSpare <= 0)
      throw new Error(`snooze-wake: snoozing took past the wake time; give the scenario more lead`);
    await clients.call('reset');
    await clients.call('takeLatencies');
    const expected = o.users * o.itemsPerUser;
    type SocketCounts = { distinctItems: number; open: number };
    let sockets = await clients.call<SocketCounts>('counts');
    await waitUntil(
      async () =>
        (sockets = await clients.call<SocketCounts>('counts')).distinctItems >= expected ? true : undefined,
      {
        timeoutMs: wakeAt - Date.now() + Math.max(60_000, expected * 5),
        everyMs: 200,
        describe: () => `snooze-wake: ${sockets.distinctItems}/${expected} woken items on the sockets`,
      },
    );
    expectCount('snooze-wake: distinct woken items pushed', sockets.distinctItems, expected);
    expectCount('snooze-wake: sockets still open', sockets.open, o.users);
    const lateness = await clients.call<number[]>('takeLatencies');
    const early = lateness.filter((ms) => ms < 0).length;
    expectCount('snooze-wake: items pushed before their time', early, 0);
    return {
      name: 'snooze-wake',
      figure: round(percentile(lateness, 99)),
      unit: 'ms late (p99)',
      baseline: null,
      ratio: null,
      target: 'a figure (issue 16: how late a snoozed item comes back)',
      items: expected,
      users: o.users,
      p50: round(percentile(lateness, 50)),
      max: round(Math.max(...lateness)),
      snoozedWithMsToSpare,
    };
  } finally {
    await clients.call('closeAll');
    await worker.stop();
    await edge.stop();
  }
}
