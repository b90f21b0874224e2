import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { describeWith } from '../support/services';
import { ADMIN_TOKEN } from '../support/testApp';
import { chaosEnvelope, createChaosDeployment, type ChaosDeployment } from './support/chaosDeployment';
import { FULL } from './support/chaosMode';
import type { HeraldProcess } from './support/heraldProcess';
import { classify, watchMailbox, type Mailbox } from './support/ledger';
import { reportScenario } from './support/results';
import { waitUntil } from './support/waitUntil';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
const MAIL_CONCURRENCY = 16;
/** Quick mode: 500 messages due over 20 s, two kills; full mode: 5,000 over 60 s, three kills. */
const SIZES = FULL
  ? { total: 5000, spreadMs: 60_000, killsAtMs: [10_000, 25_000, 45_000] }
  : { total: 500, spreadMs: 20_000, killsAtMs: [5_000, 12_000] };
/** Time to publish everything before the first message is due. */
const LEAD_MS = FULL ? 30_000 : 8_000;

async function eachLimited<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < items.length; i = next++) await fn(items[i] as T);
    }),
  );
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number) : 0;

describeWith(['postgres', 'rabbitmq'], 'chaos: scheduled sends while Herald is killed with SIGKILL', () => {
  let sink: SmtpSink;
  let mailbox: Mailbox;
  let dep: ChaosDeployment;

  beforeAll(async () => {
    sink = await startSmtpSink();
    mailbox = watchMailbox(sink);
    dep = createChaosDeployment({ HERALD_CONCURRENCY_MAIL: String(MAIL_CONCURRENCY) });
  });
  afterAll(async () => {
    await dep?.destroy();
    await sink?.close();
  });

  it('sends every scheduled message once, none before its time, and measures the lateness after each restart', async () => {
    let h: HeraldProcess = await dep.start();
    await dep.setUp(h, sink);
    const base = Date.now() + LEAD_MS;
    const dueAt = (i: number) => base + Math.floor((i * SIZES.spreadMs) / SIZES.total);
    const ids = Array.from({ length: SIZES.total }, (_, i) => `sched-kill-${i}`);
    await eachLimited(ids, 20, async (id) => {
      const i = ids.indexOf(id);
      const res = await fetch(`${h.baseUrl}/v1/messages`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ ...chaosEnvelope(id, i), sendAt: new Date(dueAt(i)).toISOString() }),
      });
      expect(res.status).toBe(202);
    });
    const publishedBy = Date.now() - base;

    // Down from each kill until the restarted process answers /ready.
    const downtimes: Array<{ from: number; to: number }> = [];
    for (const at of SIZES.killsAtMs) {
      await new Promise((r) => setTimeout(r, Math.max(0, base + at - Date.now())));
      h.kill('SIGKILL');
      await h.exited;
      const from = Date.now();
      h = await dep.start();
      downtimes.push({ from, to: Date.now() });
    }

    await waitUntil(
      async () => {
        const { rows } = await dep.db.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM "Message" WHERE id = ANY($1) AND status = 'completed'`,
          [ids],
        );
        return Number(rows[0]?.n) === ids.length;
      },
      300_000,
      'every scheduled message completed',
      1000,
    );
    await sink.waitForMessages(ids.length, 30_000).catch(() => undefined);
    const c = await classify(dep.db, ids, mailbox);

    // The first send of each delivery against its time, both on the database's clock.
    const { rows } = await dep.db.query<{ id: string; sendAt: Date; firstSent: Date }>(
      `SELECT m.id, m."sendAt", min(a."createdAt") AS "firstSent"
         FROM "Message" m JOIN "Delivery" d ON d."messageId" = m.id
         JOIN "DeliveryAttempt" a ON a."deliveryId" = d.id AND a.outcome = 'sent'
        WHERE m.id = ANY($1) GROUP BY m.id, m."sendAt"`,
      [ids],
    );
    const early = rows.filter((r) => r.firstSent.getTime() < r.sendAt.getTime());
    const lateness = rows.map((r) => r.firstSent.getTime() - r.sendAt.getTime()).sort((a, b) => a - b);
    // Messages due while Herald was down, counted from the restart's /ready.
    const afterRestart = rows
      .map((r) => {
        const down = downtimes.find((d) => r.sendAt.getTime() >= d.from && r.sendAt.getTime() < d.to);
        return down ? r.firstSent.getTime() - down.to : undefined;
      })
      .filter((x): x is number => x !== undefined)
      .sort((a, b) => a - b);
    reportScenario('scheduled-kill-9', {
      total: ids.length,
      completed: c.completed,
      lost: c.lost,
      duplicated: c.duplicated,
      deadLettered: c.deadLettered,
      repeatedInFlight: c.repeatedInFlight,
      extra: {
        sentEarly: early.length,
        publishedBeforeFirstDueMs: -publishedBy,
        downtimeMs: downtimes.map((d) => d.to - d.from),
        latenessP50Ms: percentile(lateness, 50),
        latenessP95Ms: percentile(lateness, 95),
        latenessMaxMs: lateness[lateness.length - 1] ?? 0,
        dueWhileDown: afterRestart.length,
        afterRestartP50Ms: percentile(afterRestart, 50),
        afterRestartMaxMs: afterRestart[afterRestart.length - 1] ?? 0,
      },
    });
    expect(c.problems).toEqual([]);
    expect(c.completed).toBe(ids.length);
    expect(c.duplicated).toBe(0);
    expect(c.repeatedInFlight).toBeLessThanOrEqual(MAIL_CONCURRENCY * SIZES.killsAtMs.length);
    expect(early).toEqual([]);
    expect(rows).toHaveLength(ids.length);
  });
});
